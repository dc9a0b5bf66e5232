"""What every test run shares, however it is started and however many xdist workers it has."""

from __future__ import annotations

import shutil

import pytest


def pytest_configure(config):
    # The run's controller (or a run without xdist) empties the artifacts folder once, before any test.
    if not hasattr(config, "workerinput"):
        shutil.rmtree(config.getoption("--output", default="test-results"), ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def delete_output_dir():
    """Replaces pytest-playwright's, which empties test-results/ in each xdist worker when that
    worker's first test starts: it could wipe the screenshots, traces and server logs another worker
    already kept for a failure. pytest_configure above empties it once instead."""
