"""`shop deploy --verify` extracts each deployed package once per content and keeps only
the ones still deployed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from shop_local.deploy.cold_start import prune_packages, unpacked


def package(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_functions_sharing_a_package_share_one_extracted_folder(tmp_path: Path) -> None:
    app = package({"app.py": "app = 1\n", "chalicelib/__init__.py": ""})
    first = unpacked(app, tmp_path)
    second = unpacked(app, tmp_path)
    assert first == second
    assert (first / "app.py").read_text() == "app = 1\n"
    assert (first / "chalicelib" / "__init__.py").is_file()
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no half-extracted leftovers


def test_a_changed_package_gets_its_own_folder(tmp_path: Path) -> None:
    old = unpacked(package({"app.py": "v = 1\n"}), tmp_path)
    new = unpacked(package({"app.py": "v = 2\n"}), tmp_path)
    assert old != new
    assert (new / "app.py").read_text() == "v = 2\n"


def test_a_folder_not_in_use_is_pruned(tmp_path: Path) -> None:
    old = unpacked(package({"app.py": "v = 1\n"}), tmp_path)
    new = unpacked(package({"app.py": "v = 2\n"}), tmp_path)
    prune_packages(tmp_path, {new})
    assert not old.exists() and new.is_dir()
    prune_packages(tmp_path / "never-made", set())  # nothing to prune is fine


def test_not_a_zip_raises_and_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(zipfile.BadZipFile):
        unpacked(b"not a zip", tmp_path)
    assert list(tmp_path.iterdir()) == []
