"""The function catalog: every Lambda function a Chalice project deploys, as Chalice deploys it.

Built from Chalice's own application graph (`ApplicationGraphBuilder`, the model
`chalice deploy` plans from) over the app and its `.chalice/config.json` for one
stage, so the local names, handlers, environment, memory size, timeout and reserved
concurrency are the cloud's: `shop-user-dev` (the REST API handler, handler `app.app`),
`shop-product-dev-settle_reservations` (a schedule), `shop-communication-dev-signup_email`.
The REST API comes with the Swagger document Chalice generates for API Gateway
(routes, `binaryMediaTypes`, CORS), and schedules with their rule and expression.

Chalice imports every app as module `app` (and its `chalicelib`), so the graph is built
in a child process per project (`python -m shop_local.runtime.catalog DIR STAGE`, which
prints the catalog as JSON); the caller never imports the app.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shop_local.aws_local import LOCAL_ACCOUNT, LOCAL_REGION

PYTHON_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
CATALOG_TIMEOUT_SECONDS = 120


class CatalogError(RuntimeError):
    """The project cannot be loaded; the message carries the child's error output."""


def function_arn(name: str, region: str = LOCAL_REGION, account: str = LOCAL_ACCOUNT) -> str:
    """`arn:aws:lambda:<region>:<account>:function:<name>`."""
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def rule_arn(rule: str, region: str = LOCAL_REGION, account: str = LOCAL_ACCOUNT) -> str:
    """The EventBridge rule ARN, `arn:aws:events:<region>:<account>:rule/<rule>`."""
    return f"arn:aws:events:{region}:{account}:rule/{rule}"


@dataclass(frozen=True)
class FunctionSpec:
    """One deployed Lambda function.

    `name` is the deployed function name; `handler` Lambda's handler string
    (`module.attribute`) resolved in `code_dir` (the function's `LAMBDA_TASK_ROOT`);
    `environment` the variables of its Chalice configuration for the stage;
    `memory_mb` and `timeout_seconds` Chalice's `lambda_memory_size` / `lambda_timeout`
    (Chalice's defaults 128 MB and 60 s when unset); `reserved_concurrency` None when unset.
    """

    name: str
    handler: str
    code_dir: str
    environment: dict[str, str] = field(default_factory=dict)
    memory_mb: int = 128
    timeout_seconds: int = 60
    reserved_concurrency: int | None = None
    runtime: str = PYTHON_RUNTIME
    resource_name: str = ""  # Chalice's name for it: `api_handler`, `settle_reservations`

    @property
    def arn(self) -> str:
        return function_arn(self.name)

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"


@dataclass(frozen=True)
class RestApiSpec:
    """The app's REST API: the function behind it and the Swagger 2.0 document Chalice deploys."""

    function: str
    stage: str
    swagger: dict[str, Any]

    @property
    def binary_media_types(self) -> list[str]:
        return list(self.swagger.get("x-amazon-apigateway-binary-media-types", []))


@dataclass(frozen=True)
class ScheduleSpec:
    """An EventBridge rule: `expression` is `rate(...)` or `cron(...)` as deployed."""

    rule: str
    expression: str
    function: str

    @property
    def arn(self) -> str:
        return rule_arn(self.rule)


@dataclass(frozen=True)
class AppCatalog:
    """What one Chalice project deploys for one stage."""

    app_name: str
    stage: str
    project_dir: str
    functions: list[FunctionSpec]
    rest_api: RestApiSpec | None = None
    schedules: list[ScheduleSpec] = field(default_factory=list)

    def function(self, name: str) -> FunctionSpec | None:
        """The function deployed as `name`, or None."""
        return next((f for f in self.functions if f.name == name), None)

    def by_resource_name(self, resource_name: str) -> FunctionSpec | None:
        """The function Chalice calls `resource_name` (`@app.lambda_function(name=...)`)."""
        return next((f for f in self.functions if f.resource_name == resource_name), None)

    def to_json(self) -> dict[str, Any]:
        """The catalog as JSON-ready dicts and lists (`from_json` reads it back)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppCatalog:
        """The catalog `to_json` wrote; raises KeyError or TypeError for a dict of another shape."""
        api = data.get("rest_api")
        return cls(
            app_name=data["app_name"],
            stage=data["stage"],
            project_dir=data["project_dir"],
            functions=[FunctionSpec(**f) for f in data["functions"]],
            rest_api=RestApiSpec(**api) if api else None,
            schedules=[ScheduleSpec(**s) for s in data.get("schedules", [])],
        )


def load_catalog(project_dir: Path, stage: str = "dev") -> AppCatalog:
    """Build the catalog of the project in `project_dir` (a child process; see the module doc).

    Raises CatalogError when the app cannot be imported or its configuration is invalid.
    """
    project_dir = project_dir.resolve()
    if not (project_dir / "app.py").is_file():
        raise CatalogError(f"no Chalice app at {project_dir} (app.py missing)")
    result = subprocess.run(
        [sys.executable, "-m", "shop_local.runtime.catalog", str(project_dir), stage],
        capture_output=True, text=True, timeout=CATALOG_TIMEOUT_SECONDS, check=False,
        cwd=project_dir, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if result.returncode != 0:
        raise CatalogError(f"could not load the Chalice app in {project_dir}:\n"
                           f"{result.stderr.strip()[-4000:]}")
    return AppCatalog.from_json(json.loads(result.stdout))


def _build(project_dir: Path, stage: str) -> AppCatalog:
    # Imported here: only the child process pays for Chalice's deploy machinery.
    from chalice.cli.factory import CLIFactory
    from chalice.deploy import models
    from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder
    from chalice.deploy.swagger import SwaggerGenerator

    sys.path.insert(0, str(project_dir))
    factory = CLIFactory(project_dir=str(project_dir), environ=dict(os.environ))
    config = factory.create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    graph = ApplicationGraphBuilder().build(config, stage)
    resources = DependencyBuilder().build_dependencies(graph)

    functions: list[FunctionSpec] = []
    schedules: list[ScheduleSpec] = []
    api: models.RestAPI | None = None
    for resource in resources:
        if isinstance(resource, models.LambdaFunction):
            functions.append(FunctionSpec(
                name=resource.function_name,
                handler=resource.handler,
                code_dir=str(project_dir),
                environment={str(k): str(v) for k, v in resource.environment_variables.items()},
                memory_mb=int(resource.memory_size or 128),
                timeout_seconds=int(resource.timeout or 60),
                reserved_concurrency=(None if resource.reserved_concurrency is None
                                      else int(resource.reserved_concurrency)),
                runtime=str(resource.runtime),
                resource_name=resource.resource_name,
            ))
        elif isinstance(resource, models.ScheduledEvent):
            schedules.append(ScheduleSpec(
                rule=resource.rule_name, expression=str(resource.schedule_expression),
                function=resource.lambda_function.function_name,
            ))
        elif isinstance(resource, models.RestAPI):
            api = resource
    rest_api = None
    if api is not None:
        handler = api.lambda_function.function_name
        deployed = {
            "api_handler_arn": function_arn(handler),
            "api_handler_name": handler,
            "lambda_functions": {f.name: {"arn": f.arn} for f in functions},
        }
        swagger = SwaggerGenerator(LOCAL_REGION, deployed).generate_swagger(app, api)
        rest_api = RestApiSpec(function=handler, stage=api.api_gateway_stage,
                               swagger=json.loads(json.dumps(swagger, default=str)))
    return AppCatalog(app_name=app.app_name, stage=stage, project_dir=str(project_dir),
                      functions=functions, rest_api=rest_api, schedules=schedules)


def main(argv: list[str]) -> int:
    """`python -m shop_local.runtime.catalog PROJECT_DIR STAGE`: print the app's catalog as JSON.

    Run by `load_catalog` in a child process; returns 0, and raises what importing the app
    or Chalice's deploy planner raises (the parent reports the child's stderr).
    """
    print(json.dumps(_build(Path(argv[0]).resolve(), argv[1]).to_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
