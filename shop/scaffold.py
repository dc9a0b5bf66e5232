"""`shop new-plugin NAME`: a new checkout plugin from the project's own template.

The template (shop/plugin_template/) is a working plugin named "templatepay": a plugin, a
client, a sandbox with a control page and scenarios, a kit driver, a README and the contract
kit. Copied to plugins/NAME/ with its names replaced, and added to the store's pyproject.toml
as a workspace dependency, it is offered at checkout after `uv sync`, and `pytest plugins/NAME`
runs the kit against its sandbox."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

TEMPLATE = Path(__file__).parent / "plugin_template"
TEMPLATE_ID = "templatepay"
NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


class ScaffoldError(Exception):
    pass


def class_prefix(name: str) -> str:
    """acme_pay -> AcmePay: what the plugin's classes are called."""
    return "".join(part.capitalize() for part in name.split("_"))


def project_root(start: Path) -> Path:
    """The store's project: the nearest folder up from ``start`` whose pyproject.toml is the
    workspace of the plugins."""
    for folder in (start, *start.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "[tool.uv.workspace]" in pyproject.read_text():
            return folder
    raise ScaffoldError(f"no Cartwheel project (a pyproject.toml with [tool.uv.workspace]) at or above {start}")


def new_plugin(name: str, root: Path) -> Path:
    """plugins/<name>/ from the template, registered in the root pyproject.toml; its path."""
    if not NAME.match(name) or name == TEMPLATE_ID:
        raise ScaffoldError(f"{name!r}: a plugin's name is a lower-case slug of letters, digits and _ (e.g. acmepay)")
    target = root / "plugins" / name
    if target.exists():
        raise ScaffoldError(f"{target} exists already")
    replacements = ((TEMPLATE_ID.upper(), name.upper()), (class_prefix(TEMPLATE_ID), class_prefix(name)),
                    (TEMPLATE_ID, name))
    shutil.copytree(TEMPLATE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in sorted(target.rglob("*")):
        if path.is_file():
            text = path.read_text()
            for old, new in replacements:
                text = text.replace(old, new)
            path.write_text(text)
    _register(root / "pyproject.toml", name)
    return target


def _register(pyproject: Path, name: str) -> None:
    """Add the plugin to the store's dependencies and as a workspace source, after the others."""
    lines = pyproject.read_text().splitlines(keepends=True)
    for pattern, line in ((re.compile(r'^\s+"cartwheel-[a-z0-9_]+",'), f'    "cartwheel-{name}",\n'),
                          (re.compile(r"^cartwheel-[a-z0-9_]+ = \{ workspace = true \}"),
                           f"cartwheel-{name} = {{ workspace = true }}\n")):
        last = max((i for i, text in enumerate(lines) if pattern.match(text)), default=None)
        if last is None:
            raise ScaffoldError(f"{pyproject}: found no plugin like {line.strip()!r} to add this one after")
        lines.insert(last + 1, line)
    pyproject.write_text("".join(lines))


NEXT_STEPS = """Created {path}.

  1. uv sync                          installs it; the checkout offers it, talking to its sandbox
  2. fill in {path}/client.py     the provider's API (and the sandbox and driver to match)
  3. .venv/bin/pytest plugins/{name}    the contract kit
"""
