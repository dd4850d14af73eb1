"""Runs `chalice deploy` or `chalice delete` for one staged app, in a child process of its own.

A child per app because Chalice imports each app as module `app`. The deployer is
Chalice's default one, with one part swapped when the target is moto's server:
its API Gateway imports only documents labelled OpenAPI 3 and reads
`info.description`, while Chalice generates Swagger 2.0 without one. The document
Chalice builds (paths, integrations, authorizers) is otherwise handed over as is;
real AWS and LocalStack get Chalice's document unchanged.

The staged files are private on this machine (0600), and Chalice's zip records each
file's mode: Lambda runs the code as another user than the package's owner and needs
it world-readable (0644, 0755 for executables), so every entry of the zip gets those
modes whatever the file's mode on disk.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

MOTO = "moto"


def run(project_dir: Path, stage: str, action: str, emulator: str,
        env: dict[str, str]) -> str:
    """Run in a child; return its output, raise with it on failure."""
    result = subprocess.run(
        [sys.executable, "-m", "shop_local.deploy.chalice_run", action, str(project_dir),
         "--stage", stage, "--emulator", emulator],
        capture_output=True, text=True, timeout=900, check=False, cwd=project_dir,
        env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise RuntimeError(f"chalice {action} of {project_dir.name} failed:\n{output[-4000:]}")
    return output


def _moto_swagger_generator() -> Any:
    from chalice.deploy.swagger import TemplatedSwaggerGenerator

    class MotoSwaggerGenerator(TemplatedSwaggerGenerator):  # type: ignore[misc]
        def generate_swagger(self, app: Any, rest_api: Any = None) -> dict[str, Any]:
            document: dict[str, Any] = super().generate_swagger(app, rest_api)
            document.pop("swagger", None)
            document["openapi"] = "3.0.1"
            document["info"].setdefault("description", f"{app.app_name} (Chalice)")
            return document

    return MotoSwaggerGenerator()


LAMBDA_FILE_MODE = 0o644
LAMBDA_EXECUTABLE_MODE = 0o755


def lambda_mode(mode: int) -> int:
    """A file's st_mode with the permission bits Lambda needs; its type bits kept."""
    permissions = LAMBDA_EXECUTABLE_MODE if mode & 0o100 else LAMBDA_FILE_MODE
    return (mode & ~0o7777) | permissions


def _lambda_readable_zip_entries() -> None:
    from chalice.utils import ChaliceZipFile

    original = ChaliceZipFile._create_zipinfo

    def create_zipinfo(self: Any, filename: Any, arcname: Any, compress_type: Any) -> Any:
        zinfo = original(self, filename, arcname, compress_type)
        zinfo.external_attr = lambda_mode((zinfo.external_attr >> 16) & 0xFFFF) << 16
        return zinfo

    ChaliceZipFile._create_zipinfo = create_zipinfo  # type: ignore[method-assign]


def _deployer(factory: Any, config: Any, emulator: str) -> Any:
    from chalice.awsclient import TypedAWSClient
    from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder
    from chalice.deploy.deployer import Deployer, ResultsRecorder, create_build_stage
    from chalice.deploy.executor import Executor
    from chalice.deploy.planner import PlanStage, RemoteState
    from chalice.deploy.swagger import TemplatedSwaggerGenerator
    from chalice.deploy.sweeper import ResourceSweeper
    from chalice.utils import UI, OSUtils

    session = factory.create_botocore_session()
    client = TypedAWSClient(session)
    osutils = OSUtils()
    swagger = _moto_swagger_generator() if emulator == MOTO else TemplatedSwaggerGenerator()
    # The same parts as chalice.deploy.deployer.create_default_deployer.
    return Deployer(
        application_builder=ApplicationGraphBuilder(),
        deps_builder=DependencyBuilder(),
        build_stage=create_build_stage(osutils, UI(), swagger, config),
        plan_stage=PlanStage(
            osutils=osutils,
            remote_state=RemoteState(client, config.deployed_resources(config.chalice_stage)),
        ),
        sweeper=ResourceSweeper(),
        executor=Executor(client, UI()),
        recorder=ResultsRecorder(osutils=osutils),
    )


def main(argv: list[str] | None = None) -> int:
    """The child's side of `run`: `deploy|delete PROJECT_DIR --stage S [--emulator moto|…]`;
    runs Chalice's deployer (or its deletion deployer) as `chalice deploy --stage S` would.
    Returns 0; Chalice's errors (botocore ClientError, its own ChaliceDeploymentError) end
    the process with a traceback.
    """
    from chalice.cli.factory import CLIFactory
    from chalice.utils import UI

    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["deploy", "delete"])
    parser.add_argument("project_dir", type=Path)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--emulator", default="unknown")
    args = parser.parse_args(argv)

    project_dir = str(args.project_dir.resolve())
    sys.path.insert(0, project_dir)
    factory = CLIFactory(project_dir=project_dir, environ=dict(os.environ))
    config = factory.create_config_obj(chalice_stage_name=args.stage)
    if args.action == "deploy":
        _lambda_readable_zip_entries()
        _deployer(factory, config, args.emulator).deploy(config, chalice_stage_name=args.stage)
    else:
        session = factory.create_botocore_session()
        factory.create_deletion_deployer(session=session, ui=UI()).deploy(
            config, chalice_stage_name=args.stage)
    return 0


if __name__ == "__main__":
    sys.exit(main())
