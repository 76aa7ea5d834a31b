"""`quotewire run` as a user runs it: no Prefect server configured, so the command starts a
temporary one of its own (temporary_server) and everything talks to that one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quotewire.publish.store import Warehouse
from e2e.test_flows import ARTICLES, write_raw


@pytest.mark.slow
def test_run_without_a_prefect_server_uses_one_temporary_server(tmp_path):
    raw = write_raw(tmp_path / "raw", ARTICLES)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), QUOTEWIRE_BATCH_SIZE="1")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "quotewire"), "run", "--quiet", "--workers", "2",
         "--raw", str(raw), "--warehouse", str(tmp_path / "warehouse")],
        capture_output=True, text=True, timeout=300, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert Warehouse(tmp_path / "warehouse").read_table("articles").num_rows == len(ARTICLES)
    # Prefect starts (and announces) a server of its own when a client in the run does not
    # see ours: the flow itself, a thread forwarding events, or the log handler at exit.
    assert "Starting temporary server" not in output
    assert "Error logging to API" not in output and "connection attempts failed" not in output
