"""`shop new-plugin acmepay`, then `uv sync`, then `pytest plugins/acmepay`: a new provider in
three commands, in a copy of the project, its contract kit passing against its own sandbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shop.scaffold import ScaffoldError, class_prefix, new_plugin
from shop.testing.contract import ContractKit

ROOT = Path(__file__).resolve().parents[1]
KIT_CHECKS = sum(1 for name in dir(ContractKit) if name.startswith("test_"))
# The template's own tests beside the kit (its sandbox's control API).
TEMPLATE_TESTS = sum(text.count("\ndef test_") + text.count("\nasync def test_")
                     for text in (path.read_text() for path in (ROOT / "shop/plugin_template/tests").glob("test_*.py")))


def _uv() -> str:
    """uv as `make` finds it: on the PATH, or bootstrapped into .tools/."""
    found = os.environ.get("UV") or shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    assert Path(found).is_file() or shutil.which(found), "uv is needed (make bootstraps it into .tools/)"
    return found


def _copy_project(target: Path) -> None:
    """The project's files as git sees them (tracked and new), without .venv or caches."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not name.startswith("plugins/acmepay/"):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_a_new_plugin_in_three_commands_passes_the_contract_kit(tmp_path):
    project = tmp_path / "project"
    _copy_project(project)

    created = _run([sys.executable, "-m", "shop.cli", "new-plugin", "acmepay"], project, 60)
    assert created.returncode == 0, created.stderr
    assert (project / "plugins/acmepay/plugin.py").read_text().count("class AcmepayPlugin(CheckoutPlugin)") == 1
    pyproject = (project / "pyproject.toml").read_text()
    assert '"cartwheel-acmepay",' in pyproject and "cartwheel-acmepay = { workspace = true }" in pyproject

    # Online, as a merchant runs it: `make` installs from the lock alone, so uv's cache may hold no
    # index pages to resolve the new member with (a fresh CI machine's does not).
    synced = _run([_uv(), "sync", "--all-extras"], project, 300)
    assert synced.returncode == 0, synced.stderr[-2000:]

    kit = _run([str(project / ".venv/bin/pytest"), "plugins/acmepay", "-q", "-p", "no:randomly"], project, 300)
    assert kit.returncode == 0, kit.stdout[-4000:]
    assert f"{KIT_CHECKS + TEMPLATE_TESTS} passed" in kit.stdout, kit.stdout[-1000:]  # none skipped

    built = _run([_uv(), "build", "--package", "cartwheel-acmepay", "--wheel", "-o", str(tmp_path / "dist")],
                 project, 300)
    assert built.returncode == 0, built.stderr[-2000:]
    assert [wheel.name for wheel in (tmp_path / "dist").glob("*.whl")] == ["cartwheel_acmepay-0.1.0-py3-none-any.whl"]


def test_new_plugin_refuses_a_bad_name_or_an_existing_plugin(tmp_path):
    (tmp_path / "plugins" / "seqr").mkdir(parents=True)
    for name in ("Acme", "acme-pay", "1pay", "templatepay"):
        with pytest.raises(ScaffoldError, match="slug"):
            new_plugin(name, tmp_path)
    with pytest.raises(ScaffoldError, match="exists already"):
        new_plugin("seqr", tmp_path)
    assert class_prefix("acme_pay") == "AcmePay"
