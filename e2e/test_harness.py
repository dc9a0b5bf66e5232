"""The harness itself, without a browser: what a CI run keeps when a store does not start."""

from pathlib import Path

import pytest

from e2e.conftest import start_keeping_the_log
from shop.testing.server import ServerProcess, free_port

pytestmark = pytest.mark.own_store


class ArtifactsConfig:
    """What the harness reads of pytest's configuration: where artifacts go (--output)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def getoption(self, name: str):
        assert name == "--output"
        return str(self.folder)


def test_a_failed_migration_is_shown_and_its_output_kept_in_the_artifacts(tmp_path):
    nowhere = f"postgresql+psycopg://cartwheel@127.0.0.1:{free_port()}/cartwheel"  # nothing listens there
    store = ServerProcess(tmp_path, {"DATABASE_URL": nowhere})
    with pytest.raises(RuntimeError, match=r"`shop db upgrade` failed") as failure:
        start_keeping_the_log(ArtifactsConfig(tmp_path / "artifacts"), store)
    assert "Connection refused" in str(failure.value)  # the migration's own words, in the error
    kept = list((tmp_path / "artifacts").glob("*-did-not-start.log"))
    assert len(kept) == 1 and "--- shop db upgrade (1)" in kept[0].read_text()
    assert "Connection refused" in kept[0].read_text()
