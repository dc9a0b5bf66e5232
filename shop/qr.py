"""QR codes as inline SVG: encoded by the qrcode library, drawn here.

A QR code is drawn with the one of its eight masks that scores the fewest penalty points (ISO
18004). qrcode finds it by drawing the code eight times and scoring each module by module:
some 15 ms for a bank transfer's GiroCode, the largest part of what the order page of a
transfer or a SEQR payment costs the store. ``QuickMaskQRCode`` finds the same mask, scored by
the same rules, over the whole code packed into an integer: the data is placed once, each mask
is XORed onto it, and each rule is a few shifts and ANDs. The SVG is one path with a rectangle per run of dark modules in a row
(qrcode's SVG image draws each module on its own, through an XML tree: as long again).
Together about a quarter of what qrcode takes."""

from __future__ import annotations

import functools
import itertools
import re

import qrcode
from markupsafe import Markup
from qrcode import util


@functools.lru_cache(maxsize=256)
def qr_svg(payload: str, error_correction: int = qrcode.constants.ERROR_CORRECT_M) -> Markup:
    """An <svg> element for the payload, sized by its container (it has a viewBox)."""
    code = QuickMaskQRCode(error_correction=error_correction)
    code.add_data(payload)
    code.make(fit=True)
    return Markup(svg_of(code.modules, border=2))


_DARK_RUN = re.compile(r"1+")
_DIGIT = {True: "1", False: "0", None: "0"}  # a module: dark, light, not drawn yet


def svg_of(modules: list[list[bool]], border: int) -> str:
    """The modules as an <svg> (one unit per module, ``border`` light modules around), a
    rectangle per run of dark modules in a row."""
    size = len(modules) + 2 * border
    runs = [f"M{border + run.start()},{border + y}h{len(run.group())}v1h-{len(run.group())}z"
            for y, row in enumerate(modules)
            for run in _DARK_RUN.finditer("".join(map(_DIGIT.__getitem__, row)))]
    return (f'<svg width="{size}mm" height="{size}mm" version="1.1" viewBox="0 0 {size} {size}" '
            f'xmlns="http://www.w3.org/2000/svg"><path d="{"".join(runs)}" fill="#000000" stroke="none"/></svg>')


def girocode_payload(*, bic: str, name: str, iban: str, amount_cents: int, currency: str, purpose: str) -> str:
    """An EPC069-12 credit transfer (GiroCode) payload: version 002, UTF-8, SCT."""
    if currency != "EUR":
        raise ValueError("a GiroCode transfers euros only")
    amount = f"EUR{amount_cents // 100}.{amount_cents % 100:02d}"
    return "\n".join(["BCD", "002", "1", "SCT", bic, name[:70], iban.replace(" ", ""), amount, "", "", purpose[:140]])


# --------------------------------------------------------------------------- the mask
#
# A code is scored as two integers: its rows one after the other, most significant bit first
# (the module at row r, column c is bit r*size + c counted from the top), and its columns the
# same way. A pattern along a line is then a few shifts and ANDs over the whole code at once,
# kept only where it starts far enough from the end of its line not to run into the next one.


class QuickMaskQRCode(qrcode.QRCode):
    """qrcode's QRCode, choosing its mask as qrcode does (same rules, same ties) with less work."""

    def best_mask_pattern(self) -> int:
        size = self.modules_count = self.version * 4 + 17
        without_data = self._without_data()
        self.makeImpl(True, 0)  # the data placed once, under mask 0 (type information blank while testing)
        scores = []
        for lines in (lambda modules: modules, _columns):  # rows, then columns
            fixed = pack(lines(without_data))  # the dark modules that are not data (finders, timing...)
            data_at = pack(lines([[module is None for module in row] for row in without_data]))
            data = pack(lines(self.modules)) ^ mask_of(size, 0, lines is _columns)  # mask 0 taken off again
            scores.append([fixed | ((data ^ mask_of(size, pattern, lines is _columns)) & data_at)
                           for pattern in range(8)])
        points = [penalty(rows, columns, size) for rows, columns in zip(*scores, strict=True)]
        return points.index(min(points))  # the first of equals, as qrcode takes it

    def _without_data(self) -> list[list]:
        """The code before its data is placed: None where data goes."""
        self.map_data = lambda data, mask_pattern: None
        try:
            self.makeImpl(True, 0)
        finally:
            del self.map_data
        return self.modules


def _columns(modules) -> list[tuple]:
    return list(zip(*modules, strict=True))


def pack(lines) -> int:
    """Lines of modules (truthy: dark) as one integer, the first module of the first line its top bit."""
    return int("".join(map(_DIGIT.__getitem__, itertools.chain.from_iterable(lines))), 2)


@functools.lru_cache(maxsize=8 * 2 * 40)
def mask_of(size: int, pattern: int, by_columns: bool) -> int:
    """Mask ``pattern`` (qrcode's own function) over a code of ``size`` modules, packed."""
    flips = util.mask_func(pattern)
    rows = [[flips(r, c) for c in range(size)] for r in range(size)]
    return pack(_columns(rows) if by_columns else rows)


@functools.lru_cache(maxsize=40 * 16)
def _starts(size: int, width: int, lines: int) -> int:
    """Bits where a pattern ``width`` modules wide can start within its line (of ``lines`` lines)."""
    line = int("1" * (size - width + 1) + "0" * (width - 1), 2)
    return int(format(line, f"0{size}b") * lines, 2)


def _found(bits: int, pattern: str, size: int, lines: int) -> int:
    """Where ``pattern`` ("1" dark, "0" light) starts along the lines of ``bits``."""
    everywhere = (1 << size * lines) - 1
    found = _starts(size, len(pattern), lines)
    for offset, module in enumerate(pattern):
        found &= (bits if module == "1" else ~bits & everywhere) << offset
    return found


def _long_runs(bits: int, size: int) -> int:
    """Points for runs of five or more modules of one colour along the lines: 3, plus 1 a module beyond five."""
    everywhere = (1 << size * size) - 1
    same_as_next = ~(bits ^ (bits << 1)) & everywhere
    five = _starts(size, 5, size) & same_as_next & (same_as_next << 1) & (same_as_next << 2) & (same_as_next << 3)
    # A run of n modules holds n-4 fives, one of them its first: (n-4) + 2 = n-2 points.
    return five.bit_count() + 2 * (five & ~(five >> 1)).bit_count()


def penalty(rows: int, columns: int, size: int) -> int:
    """ISO 18004's penalty points as qrcode scores them (``qrcode.util.lost_point``), for a code
    packed by rows and by columns."""
    runs = _long_runs(rows, size) + _long_runs(columns, size)
    # 1:1:3:1:1 with four light modules on one side, in a row or a column.
    finder_like = sum(_found(bits, pattern, size, size).bit_count()
                      for bits in (rows, columns) for pattern in ("10111010000", "00001011101"))
    everywhere = (1 << size * size) - 1
    same_below = ~(rows ^ (rows << size)) & everywhere
    same_right = ~(rows ^ (rows << 1)) & everywhere
    blocks = (_starts(size, 2, size - 1) << size) & same_below & (same_below << 1) & same_right  # 2×2 of one colour
    balance = int(abs(float(rows.bit_count()) / size**2 * 100 - 50) / 5)  # every 5 % from half dark: 10 points
    return runs + 3 * blocks.bit_count() + 40 * finder_like + 10 * balance
