"""`make clean` leaves nothing the shop made in the checkout but `.env`: run on a copy of the
Makefile in a folder laid out like a checkout after `make install` and `shop up`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from shop_local.paths import ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_clean_removes_what_install_and_up_made_and_keeps_env(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    made = [tmp_path / "var" / "logs", tmp_path / ".venv" / "lib",
            tmp_path / "serverless_shop.egg-info",
            tmp_path / "tests" / "postman" / "node_modules" / "newman",
            tmp_path / ".mypy_cache" / "3.11", tmp_path / "functions" / "user" / ".mypy_cache",
            tmp_path / ".ruff_cache" / "0.1", tmp_path / ".pytest_cache" / "v",
            tmp_path / ".hypothesis" / "examples",
            tmp_path / "infra" / "local" / "shop_local" / "__pycache__"]
    for folder in made:
        folder.mkdir(parents=True)
        (folder / "file").write_text("x")
    (tmp_path / ".env").write_text("SHOP_SUPERADMIN_EMAIL=admin@example.com\n")
    (tmp_path / "tests" / "postman" / "newman.sh").write_text("#!/bin/sh\n")
    # No .venv/bin/shop here, so the Makefile skips `shop reset`.
    # Run from another folder (`make -f`): only the checkout's own files go.
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    (elsewhere / "__pycache__").mkdir(parents=True)
    (elsewhere / ".mypy_cache").mkdir()
    subprocess.run(["make", "-s", "-f", str(tmp_path / "Makefile"), "clean"], cwd=elsewhere,
                   check=True, timeout=60, capture_output=True)
    assert (elsewhere / "__pycache__").is_dir() and (elsewhere / ".mypy_cache").is_dir()
    assert [folder for folder in made if folder.exists()] == []
    assert not (tmp_path / "var").exists() and not (tmp_path / ".venv").exists()
    assert (tmp_path / ".env").exists() and (tmp_path / "tests" / "postman" / "newman.sh").exists()
    assert (tmp_path / "infra" / "local" / "shop_local").is_dir()  # only the cache went
