"""A deployable copy of one function app: its code, the shared layer and its dependencies.

Why a staged copy instead of deploying functions/<service>/ in place:
- `shop_common` must travel in every package. Chalice puts `vendor/` at the top of
  the zip, so the layer is copied to `vendor/shop_common`: one artifact per
  function, always the layer version the code was tested with, nothing to publish
  or pin first (a Lambda layer would be one more versioned resource to keep in step).
- Chalice walks `chalicelib/` without following symlinks and silently drops linked
  content; copying with symlinks resolved makes the package hold what the app imports.
- Dependencies are installed once per requirements file for the Lambda platform
  (manylinux wheels, the runtime's Python) into a cache and linked into `vendor/`;
  Chalice's own cache key includes the app's code, so it would download every
  dependency again after each code change. The staged requirements.txt is empty.
- The deploy adds what the cloud needs to the staged config only: the stage's IAM
  policy file, the environment resolved from SSM and Secrets Manager (addresses and
  secret names, never a credential), and a tag with the hash of the sources (how a
  redeploy tells what changed).
- Everything staged is private (0700 folders, 0600 files).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shop_local.apps import FunctionApp
from shop_local.private_files import make_private

SOURCE_HASH_TAG = "shop:source-hash"
LAMBDA_PLATFORM = "manylinux2014_x86_64"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".DS_Store")
STAGED_REQUIREMENTS = "# installed into vendor/ by `shop deploy` (shop_local/deploy/staging.py)\n"


@dataclass(frozen=True)
class StagedApp:
    """An app staged for `chalice deploy`: its service, its Chalice `app_name`, its folder under
    the stage's build root, and the hash (32 hex digits) of everything that makes its package
    and configuration, carried by its functions as the `shop:source-hash` tag.
    """
    service: str
    app_name: str
    directory: Path
    source_hash: str

    @property
    def deployments_dir(self) -> Path:
        """Where Chalice keeps the packages it built: `.chalice/deployments/`."""
        return self.directory / ".chalice" / "deployments"

    def deployed_file(self, stage: str) -> Path:
        """Chalice's record of what it deployed for `stage`: `.chalice/deployed/<stage>.json`.
        """
        return self.directory / ".chalice" / "deployed" / f"{stage}.json"

    def deployed_resources(self, stage: str) -> dict[str, dict[str, Any]]:
        """The resources of that record by name (`api_handler`, `rest_api`, …), each Chalice's
        dict (`resource_type`, `lambda_arn`, `rest_api_id`, …); empty when nothing was
        deployed. ValueError when the file is not JSON.
        """
        path = self.deployed_file(stage)
        if not path.is_file():
            return {}
        return {r["name"]: r for r in json.loads(path.read_text()).get("resources", [])}

    def package(self) -> Path | None:
        """The zip the last deploy uploaded (the deploy keeps exactly one)."""
        zips = sorted(self.deployments_dir.glob("*.zip")) if self.deployments_dir.is_dir() else []
        return zips[0] if len(zips) == 1 else None


def python_version() -> str:
    """The Lambda runtime Chalice picks is the deploying interpreter's version."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def marker_python_version() -> str:
    """The full version, so environment markers (`python_full_version < "3.11.3"`)
    choose the same dependencies as the interpreter that tests the package."""
    return ".".join(str(part) for part in sys.version_info[:3])


def dependencies(requirements: Path, cache_dir: Path) -> Path:
    """The requirements installed for the Lambda platform, built once per file content."""
    text = requirements.read_text() if requirements.is_file() else ""
    key = hashlib.sha256(
        f"{text}\n{marker_python_version()}\n{LAMBDA_PLATFORM}".encode()).hexdigest()
    target = cache_dir / f"deps-{key[:20]}"
    if target.is_dir():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    building = cache_dir / f".building-{key[:20]}-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    if text.strip():
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
             "--disable-pip-version-check", "--target", str(building),
             "--platform", LAMBDA_PLATFORM, "--implementation", "cp",
             "--python-version", marker_python_version(), "--only-binary=:all:",
             "-r", str(requirements)],
            capture_output=True, text=True, timeout=600, check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(building, ignore_errors=True)
            raise RuntimeError(
                f"could not install {requirements} for {LAMBDA_PLATFORM} "
                f"(Python {python_version()}):\n{result.stderr.strip()[-3000:]}"
            )
    make_private(building)
    try:
        building.rename(target)  # atomic: a half-built cache is never used
    except OSError:
        shutil.rmtree(building, ignore_errors=True)  # another build won the race
    return target


def _link_tree(source: Path, target: Path) -> None:
    """Copy a tree as hard links where possible: the dependencies are tens of MB per app."""
    def link_or_copy(src: str, dst: str) -> object:
        try:
            os.link(src, dst)
            return dst
        except OSError:
            return shutil.copy2(src, dst)

    shutil.copytree(source, target, ignore=IGNORED, copy_function=link_or_copy,
                    dirs_exist_ok=True)


def _hash_tree(digest: Any, root: Path, label: str) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file()
                       and "__pycache__" not in p.parts and p.suffix != ".pyc"):
        digest.update(f"{label}/{path.relative_to(root).as_posix()}\0".encode())
        digest.update(path.read_bytes())


def staged_config(
    app: FunctionApp, stage: str, environment: dict[str, str], policy_file: str
) -> dict[str, Any]:
    """The app's `.chalice/config.json` for `stage` (the app's `dev` settings when it names no
    such stage), with Chalice's policy generation off, `policy_file` as the IAM policy and
    `environment` over the stage's own variables
    (https://aws.github.io/chalice/topics/configfile.html).
    """
    config = app.config()
    stages = config.setdefault("stages", {})
    # A stage the app does not name takes the app's `dev` settings (timeouts, memory).
    settings = dict(stages.get(stage) or stages.get("dev") or {})
    settings["autogen_policy"] = False
    settings["iam_policy_file"] = policy_file
    settings["environment_variables"] = {
        **settings.get("environment_variables", {}), **environment,
    }
    stages[stage] = settings
    return config


def stage_app(
    app: FunctionApp,
    stage: str,
    build_root: Path,
    cache_dir: Path,
    environment: dict[str, str],
    policy: dict[str, Any],
    layer_dir: Path,
) -> StagedApp:
    """Stage `app` for `chalice deploy` in `<build_root>/<service>/`: `app.py` and `chalicelib/`
    copied with symlinks resolved, the requirements installed for the Lambda platform (cached
    in `cache_dir`) and the shared layer (`layer_dir`) under `vendor/`, the IAM policy, the
    config (`staged_config`) tagged with the source hash; Chalice's record of earlier deploys
    is kept, everything else rebuilt; all of it private (0700/0600). OSError, and
    RuntimeError when pip cannot install the requirements.
    """
    target = build_root / app.service
    chalice_dir = target / ".chalice"
    chalice_dir.mkdir(parents=True, exist_ok=True)
    # Everything but Chalice's record of what it deployed (and the package it
    # uploaded) is rebuilt each time.
    for entry in list(target.iterdir()):
        if entry.name != ".chalice":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for entry in list(chalice_dir.iterdir()):
        if entry.name not in ("deployed", "deployments"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()

    shutil.copy2(app.directory / "app.py", target / "app.py")
    if (app.directory / "chalicelib").is_dir():
        shutil.copytree(app.directory / "chalicelib", target / "chalicelib",
                        symlinks=False, ignore=IGNORED)
    vendor = target / "vendor"
    vendor.mkdir()
    _link_tree(dependencies(app.directory / "requirements.txt", cache_dir), vendor)
    if (app.directory / "vendor").is_dir():
        _link_tree(app.directory / "vendor", vendor)
    shutil.copytree(layer_dir, vendor / "shop_common", symlinks=False, ignore=IGNORED)
    (target / "requirements.txt").write_text(STAGED_REQUIREMENTS)

    policy_file = f"policy-{stage}.json"
    (chalice_dir / policy_file).write_text(json.dumps(policy, indent=2, sort_keys=True))
    config = staged_config(app, stage, environment, policy_file)

    digest = hashlib.sha256()
    digest.update((app.directory / "requirements.txt").read_bytes()
                  if (app.directory / "requirements.txt").is_file() else b"")
    digest.update((target / "app.py").read_bytes())
    for folder, label in ((target / "chalicelib", "chalicelib"),
                          (vendor / "shop_common", "shop_common")):
        if folder.is_dir():
            _hash_tree(digest, folder, label)
    if (app.directory / "vendor").is_dir():
        _hash_tree(digest, app.directory / "vendor", "vendor")
    digest.update(json.dumps(config, sort_keys=True).encode())
    digest.update(json.dumps(policy, sort_keys=True).encode())
    source_hash = digest.hexdigest()[:32]

    stage_settings = config["stages"][stage]
    stage_settings["tags"] = {**stage_settings.get("tags", {}), SOURCE_HASH_TAG: source_hash}
    (chalice_dir / "config.json").write_text(json.dumps(config, indent=2))
    # Copies keep their sources' modes (0644, 0755): the staged app is its owner's alone.
    # Chalice's zip gets the modes Lambda needs (shop_local.deploy.chalice_run).
    make_private(target)
    return StagedApp(app.service, str(config.get("app_name", app.service)), target, source_hash)
