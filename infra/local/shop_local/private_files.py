"""Files only their owner may read: logs, web configs, password files, staged deployments.

Everything here makes files mode 0600 and folders 0700, whatever the process umask
and whatever modes a file had before (a tree written by an older checkout included).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR)
    return path


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by its owner only (also when it existed before)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.chmod(PRIVATE_FILE)


def open_private_log(path: Path) -> TextIO:
    """Open a log for appending, line-buffered, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return os.fdopen(fd, "a", buffering=1)


def make_private(root: Path) -> None:
    """Every folder under `root` (itself included) 0700, every file 0600; links untouched."""
    if not root.exists():
        return
    root.chmod(PRIVATE_DIR)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(PRIVATE_DIR)
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(PRIVATE_FILE)
