"""No tracked file cites the design note, which the repository does not ship.

A reader who follows "see <the note> §3" finds nothing; the README is what the
repository documents itself with.
"""

from __future__ import annotations

import subprocess

from shop_local.paths import ROOT

# Spelled in two parts so that this file does not cite the note itself.
UNSHIPPED_NOTE = "DESIGN" + ".md"


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout
    return [name for name in listed.decode().split("\0") if name]


def test_the_unshipped_note_is_not_in_the_repository() -> None:
    assert not (ROOT / UNSHIPPED_NOTE).exists()


def test_no_tracked_file_cites_the_unshipped_note() -> None:
    citing = []
    for name in tracked_files():
        path = ROOT / name
        if path.is_file() and UNSHIPPED_NOTE.encode() in path.read_bytes():
            citing.append(name)
    assert citing == []
