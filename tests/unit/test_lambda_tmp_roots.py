"""The Lambda service removes the temporary folders of services that are gone."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from shop_local.runtime.lambda_service import remove_stale_tmp_roots


def gone_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_gone_services_folder_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    stale = tmp_path / f"shop-lambda-{gone_pid()}-abc123"
    (stale / "env-1").mkdir(parents=True)
    (stale / "env-1" / "file").write_text("left by a killed service")
    live = tmp_path / f"shop-lambda-{os.getpid()}-def456"
    live.mkdir()
    unrelated = tmp_path / "shop-lambda-notapid-x"
    unrelated.mkdir()
    assert remove_stale_tmp_roots(tmp_path) == [stale]
    assert not stale.exists() and live.is_dir() and unrelated.is_dir()
