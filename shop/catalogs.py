"""The translation catalogs: extracted from the sources, updated, and compiled to .mo files.

The .po files are under version control; the .mo files are built from them (by `make`'s install
step, and by the app at start when one is missing or older than its .po), never committed.

    python -m shop.catalogs update    # `make messages`: extract, then update every .po
    python -m shop.catalogs compile   # build the .mo files that are missing or stale
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from shop.i18n import DEFAULT_LOCALE, DOMAIN, LOCALE_DIR, LOCALES

ROOT = LOCALE_DIR.parent.parent
MAPPING = ROOT / "babel.cfg"
# No source locations: they would change the .po files at every edit and make merges conflict.
_EXTRACT_OPTIONS = ["--no-location", "--sort-output", "--no-wrap", "--project", "Cartwheel", "--copyright-holder",
                    "Cartwheel", "--msgid-bugs-address", "shop@cartwheel.invalid"]


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract(pot: Path) -> None:
    """Every marked string of shop/, plugins/ and the templates, into a template catalog."""
    _pybabel("extract", "-F", str(MAPPING), "-o", str(pot), *_EXTRACT_OPTIONS, str(ROOT))


def update() -> None:
    """Bring every locale's .po in line with the sources: new strings come in untranslated
    (the catalog test then fails until someone translates them), gone ones are dropped."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / f"{DOMAIN}.pot"
        extract(pot)
        for locale in LOCALES:
            command = "update" if po_path(locale).exists() else "init"
            extra = ["--no-wrap", "--no-fuzzy-matching", "--ignore-obsolete"] if command == "update" else []
            _pybabel(command, "-i", str(pot), "-d", str(LOCALE_DIR), "-D", DOMAIN, "-l", locale, *extra)
    _english_is_the_source()


def _english_is_the_source() -> None:
    """The messages are written in English: the English catalog says each one as it is."""
    path = po_path(DEFAULT_LOCALE)
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=DEFAULT_LOCALE)
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and not any(strings):
            message.string = message.id
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, omit_header=False, no_location=True, sort_output=True)


def compile_stale(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Compile each .po whose .mo is missing or older; returns the .mo files written.

    Several workers may start at once: each writes its own temporary file and renames it into
    place, so a reader sees the old .mo or the new one, never half of one."""
    written = []
    for po in sorted(locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if _compiled_after(mo, po):
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        fd, tmp = tempfile.mkstemp(dir=po.parent, prefix=f".{DOMAIN}.", suffix=".mo")
        try:
            with os.fdopen(fd, "wb") as handle:
                write_mo(handle, catalog)
            os.chmod(tmp, 0o644)  # mkstemp's file is its owner's alone; a server run as another user reads it
            os.replace(tmp, mo)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(mo)
    return written


def _compiled_after(mo: Path, po: Path) -> bool:
    """Whether ``mo`` is newer than ``po``; one stat, since another process may remove or replace
    it at any moment (no exists-then-stat window)."""
    try:
        return mo.stat().st_mtime >= po.stat().st_mtime
    except FileNotFoundError:
        return False


def _pybabel(*args: str) -> None:
    # Imported here: pybabel's front end is slow to import, and a serving worker never needs it.
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(["pybabel", "-q", *args])


def main(argv: list[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:] or ["compile"])[0]
    if command == "update":
        update()
    elif command == "compile":
        for mo in compile_stale():
            print(f"compiled {mo.relative_to(ROOT)}")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
