"""Journeys in a real browser (Debian's chromium through Playwright) against a real server: one
each module starts, or, with --base-url, a store already running that no journey starts or stops."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.store import RunningStore, StoreNotAnswering, admin_password, use_sandbox_url
from shop.testing.server import ServerProcess, start_two_stores
from shop.testing.services import PostgresServer, RedisServer

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "user_agent": ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")}
CALL_REPORT = pytest.StashKey[pytest.TestReport]()
PHONE_DEVICE = "Pixel 5"  # a phone that chromium emulates as itself (iPhones are WebKit's)


def pytest_addoption(parser):
    group = parser.getgroup("journeys", "Cartwheel journeys against a running store")
    group.addoption("--sandbox-url", default=os.environ.get("E2E_SANDBOX_URL"),
                    help="with --base-url: where the store's sandboxes are served (default: the store's "
                         "own /sandbox/ redirect; env E2E_SANDBOX_URL)")
    group.addoption("--allow-destructive", action="store_true",
                    help="with --base-url: also run journeys that change what every user of the store sees "
                         "(the demo reset, sandbox scenarios, the SEQR period)")


def external_url(config) -> str | None:
    """pytest-playwright's --base-url (or PYTEST_BASE_URL): the store to test instead of starting one."""
    url = config.getoption("--base-url", default=None)
    return url.rstrip("/") if url else None


# Playwright's 5 s for an expectation: too short for CI's two cores, each running a browser, a
# store and its sandboxes, where a first checkout once took longer. A broken page still fails.
EXPECT_TIMEOUT_MS = 10_000


def pytest_configure(config):
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    if external_url(config) and config.getoption("--sandbox-url"):
        use_sandbox_url(config.getoption("--sandbox-url"))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if not external_url(item.config):
        return
    if item.get_closest_marker("own_store"):
        pytest.skip("needs a store this run starts (its own settings or processes), not --base-url")
    if item.get_closest_marker("destructive") and not item.config.getoption("--allow-destructive"):
        pytest.skip("changes the store for everyone: give --allow-destructive to run it against --base-url")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: `make test` installs it")
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def running_store(pytestconfig) -> RunningStore:
    """The store named by --base-url, checked once: a run where nothing answers fails."""
    url = external_url(pytestconfig)
    sandbox_url = (pytestconfig.getoption("--sandbox-url") or url).rstrip("/")
    store = RunningStore(url, sandbox_url)
    try:
        store.check()
        return store
    except StoreNotAnswering as exc:
        problem = str(exc)
    pytest.fail(f"--base-url: {problem}", pytrace=False)  # outside the except: no chained traceback


@pytest.fixture(scope="module")
def server(tmp_path_factory, request, pytestconfig):
    """One store per journey file; a module sets SERVER_ENV to change its settings (and is then
    marked own_store). With --base-url, the store already running instead."""
    env = getattr(request.module, "SERVER_ENV", {})
    if external_url(pytestconfig):
        if env:
            pytest.fail(f"{request.module.__name__} sets SERVER_ENV but is not marked own_store")
        yield request.getfixturevalue("running_store")
        return
    process = ServerProcess(tmp_path_factory.mktemp("server"), {"ADMIN_PASSWORD": admin_password(), **env})
    yield start_keeping_the_log(pytestconfig, process)
    process.stop()


def pytest_generate_tests(metafunc):
    """A journey marked phone_too runs twice: on a desktop screen and on a phone's."""
    if metafunc.definition.get_closest_marker("phone_too"):
        metafunc.parametrize("screen", ["desktop", "phone"], indirect=True)


def start_keeping_the_log(config, process: ServerProcess, *args: str) -> ServerProcess:
    """``prepare()`` and ``start()``; when either fails, the store's whole log (`db upgrade` and
    `seed` output included) is kept in the artifacts folder too: the error shows only its tail."""
    try:
        process.prepare()
        return process.start(*args)
    except RuntimeError:
        keep_log(Path(config.getoption("--output")), process, f"{process.log_path.stem}-did-not-start.log")
        raise


def keep_log(folder: Path, store: ServerProcess, filename: str) -> None:
    log = store.log()
    if log:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / filename).write_text(log)


@pytest.fixture
def screen(request) -> str:
    """The screen a journey runs on: "desktop" (pytest-playwright's default, or its --device), or
    "phone" for the phone run of a journey marked phone_too."""
    return getattr(request, "param", "desktop")


@pytest.fixture
def browser_context_args(browser_context_args, server, screen, playwright):
    args = {**browser_context_args, "base_url": server.url}
    if screen == "phone":
        device = {**playwright.devices[PHONE_DEVICE]}
        device.pop("default_browser_type", None)  # not a context option
        args.update(device)
    return args


@pytest.fixture
def phone(new_context):
    """A phone-sized browser context (its screenshots and traces are kept like the others)."""
    return new_context(**PHONE)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report


@pytest.fixture(autouse=True)
def keep_the_server_log_when_a_journey_fails(request, output_path):
    """Beside pytest-playwright's screenshot and trace: the log of every store the journey used,
    whichever way pytest was started."""
    yield
    report = request.node.stash.get(CALL_REPORT, None)
    if report is None or not report.failed:
        return
    for store in stores_used(request.node.funcargs.values()):
        keep_log(Path(output_path), store, f"server-{store.port}.log")


def stores_used(values) -> list[ServerProcess]:
    found = []
    for value in values:
        for candidate in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(candidate, ServerProcess) and candidate not in found:
                found.append(candidate)
    return found


@pytest.fixture(scope="module")
def backing_services():
    """A PostgreSQL and a Redis server, for the modules that scale the store out."""
    postgres, redis = PostgresServer().start(), RedisServer().start()
    yield postgres, redis
    redis.stop()
    postgres.stop()


@pytest.fixture(scope="module")
def two_stores(tmp_path_factory, backing_services, request):
    """Two store processes on one PostgreSQL and one Redis, sharing one sandbox process; a module
    adds settings of its own in TWO_STORES_ENV."""
    postgres, redis = backing_services
    env = {"DATABASE_URL": postgres.url, "REDIS_URL": redis.url, **getattr(request.module, "TWO_STORES_ENV", {})}
    started = start_two_stores(tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b"), env)
    yield started
    for process in started:
        process.stop()
