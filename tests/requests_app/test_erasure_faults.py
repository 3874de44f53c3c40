"""An erasure is all or nothing even when its process is killed part-way (SIGKILL, as the
OOM killer or a worker timeout would): bench/faults.py's scenario, run in a subprocess on a
throw-away database of the engine the suite runs on."""

import os
import subprocess
import sys
from urllib.parse import urlparse

import pytest
from django.conf import settings

from bench.harness import drop_database
from tests.conftest import BASE_DIR


@pytest.fixture
def database_url(tmp_path):
    """A throw-away database beside the test database (PostgreSQL), or a SQLite file."""
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'erasure-fault.sqlite3'}"
        return
    url = urlparse(os.environ["DATABASE_URL"])
    yield url._replace(path=f"/{database['NAME']}_fault").geturl()
    # The scenario names its database after the one it is given.
    drop_database(url._replace(path=f"/{database['NAME']}_fault_erasure").geturl())


def test_an_erasure_killed_part_way_changes_nothing_and_can_run_again(database_url):
    result = subprocess.run(
        [sys.executable, "bench/faults.py", "erasure", "--database-url", database_url],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_ENV_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    assert "ok   the erasure was killed (SIGKILL) after erasing, before committing" in output
    assert "return code -9" in output
    assert "ok   nothing was erased: every record as before" in output
    assert "ok   running the erasure again completes it: return code 0" in output
    assert "ok   the other person's data never changed" in output
    assert "PASS worker killed in the middle of an erasure" in output
