"""The ASGI entry point uvicorn imports (also in each worker process)."""

from __future__ import annotations

import sys

from shop.app import create_app
from shop.cli import load_settings
from shop.settings import SettingsError

try:
    app = create_app(load_settings())
except SettingsError as exc:
    print(f"shop: setting error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
