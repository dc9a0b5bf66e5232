"""Journeys in a real browser (Debian's chromium through Playwright) against a real server."""

from __future__ import annotations

import shutil

import pytest

from shop.testing.server import ServerProcess

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "user_agent": ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: `make test` installs it")
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    """One store per journey file; a module sets SERVER_ENV to change its settings."""
    env = getattr(request.module, "SERVER_ENV", {})
    process = ServerProcess(tmp_path_factory.mktemp("server"), env)
    process.prepare()
    process.start()
    yield process
    process.stop()


@pytest.fixture
def browser_context_args(browser_context_args, server):
    return {**browser_context_args, "base_url": server.url}


@pytest.fixture
def phone(new_context):
    """A phone-sized browser context (its screenshots and traces are kept like the others)."""
    return new_context(**PHONE)
