"""The translation catalogs are complete, settled and in line with the sources."""

import os
import re
import subprocess
import sys

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from shop.catalogs import compile_stale, extract, po_path
from shop.i18n import LOCALES


def _catalog(locale: str):
    with po_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated_and_none_is_fuzzy(locale):
    catalog = _catalog(locale)
    untranslated = [m.id for m in catalog if m.id and not all(_strings(m))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{locale}: untranslated (run `make messages`, then translate): {untranslated}"
    assert not fuzzy, f"{locale}: fuzzy, check and unmark: {fuzzy}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(locale):
    catalog = _catalog(locale)
    for message in catalog:
        if not message.id or not message.python_format:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = {name for text in ids for name in _placeholders(text)}
        for text in _strings(message):
            assert _placeholders(text) == wanted, f"{locale}: {message.id!r} -> {text!r}"


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text))


def test_the_catalogs_hold_exactly_the_strings_of_the_sources(tmp_path):
    pot = tmp_path / "messages.pot"
    extract(pot)
    with pot.open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    for locale in LOCALES:
        have = {m.id for m in _catalog(locale) if m.id}
        assert not wanted - have, f"{locale}: not in the catalog yet (run `make messages`): {sorted(wanted - have)}"
        assert not have - wanted, f"{locale}: no longer in the sources (run `make messages`): {sorted(have - wanted)}"


def test_a_stale_or_missing_mo_is_compiled_and_a_fresh_one_is_left_alone(tmp_path):
    po = tmp_path / "es" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_bytes(po_path("es").read_bytes())
    assert compile_stale(tmp_path) == [po.with_suffix(".mo")]
    assert compile_stale(tmp_path) == []  # up to date: nothing to do
    assert po.with_suffix(".mo").stat().st_mode & 0o044 == 0o044  # readable by a server run as another user
    with po.with_suffix(".mo").open("rb") as handle:
        assert read_mo(handle).get("Your cart").string == "Tu cesta"
    later = po.stat().st_mtime + 10
    os.utime(po, (later, later))  # the .po was edited after the .mo was built
    assert compile_stale(tmp_path) == [po.with_suffix(".mo")]


def test_workers_starting_together_never_read_half_a_catalog(tmp_path):
    """Several processes compile the same stale catalogs at once while readers load them: every
    read finds a whole .mo (each writer renames its own finished file into place)."""
    po = tmp_path / "de" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_bytes(po_path("de").read_bytes())
    script = f"""
import os, sys
from pathlib import Path
from babel.messages.mofile import read_mo
from shop.catalogs import compile_stale
mo = Path({str(po.with_suffix(".mo"))!r})
for _ in range(40):
    mo.unlink(missing_ok=True) if sys.argv[1] == "0" else None
    compile_stale(Path({str(tmp_path)!r}))
    if mo.exists():
        try:
            with mo.open("rb") as handle:
                assert read_mo(handle).get("Your cart").string == "Dein Warenkorb"
        except FileNotFoundError:
            pass
"""
    workers = [subprocess.Popen([sys.executable, "-c", script, str(i)]) for i in range(3)]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0, 0]
