"""What one function app declares, as Chalice itself would deploy it.

Chalice imports every app as module `app` (and its `chalicelib`), so two apps
never share an interpreter: `declare` runs this module as a child process per
app, which builds Chalice's own application graph (the one `chalice deploy`
plans from) and prints the parts a deployment is checked against.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DeclaredFunction:
    """A Lambda function as Chalice would create it: its deployed name
    (`<app>-<stage>[-<function>]`), handler (`app.app`), runtime (`python3.11`), environment
    variables, layer ARNs and the name of its Chalice-managed IAM role (empty when the role
    is given, not managed).
    """
    name: str
    handler: str
    runtime: str
    environment: dict[str, str]
    layers: list[str]
    role_name: str


@dataclass(frozen=True)
class DeclaredRoute:
    """One route of the REST API: its path as Chalice declares it (`/products/{product_id}`) and
    one HTTP method.
    """
    path: str
    method: str


@dataclass(frozen=True)
class DeclaredApi:
    """The app's REST API: its name, its API Gateway stage (`api`), the function behind every
    route, and the routes.
    """
    name: str
    stage: str
    function: str
    routes: list[DeclaredRoute]


@dataclass(frozen=True)
class DeclaredSchedule:
    """An EventBridge rule Chalice would create: its name, its `rate(…)` or `cron(…)` expression
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html)
    and the function it invokes.
    """
    rule: str
    expression: str
    function: str


@dataclass(frozen=True)
class DeclaredApp:
    """Everything one app declares that a deploy is checked against."""
    app_name: str
    functions: list[DeclaredFunction]
    api: DeclaredApi | None
    schedules: list[DeclaredSchedule]
    # Event sources Chalice would create that this deploy does not check (S3, SNS, ...).
    other_sources: list[str] = field(default_factory=list)

    def function(self, name: str) -> DeclaredFunction | None:
        """The declared function deployed as `name`, or None."""
        return next((f for f in self.functions if f.name == name), None)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeclaredApp:
        """The app from the JSON object the child process prints (`main`). KeyError or TypeError
        when a part is missing or has another shape.
        """
        api = data.get("api")
        return cls(
            app_name=data["app_name"],
            functions=[DeclaredFunction(**f) for f in data["functions"]],
            api=DeclaredApi(
                name=api["name"], stage=api["stage"], function=api["function"],
                routes=[DeclaredRoute(**r) for r in api["routes"]],
            ) if api else None,
            schedules=[DeclaredSchedule(**s) for s in data["schedules"]],
            other_sources=list(data.get("other_sources", [])),
        )


def declare(project_dir: Path, stage: str) -> DeclaredApp:
    """Run the inspection in a child process (see the module's docstring)."""
    result = subprocess.run(
        [sys.executable, "-m", "shop_local.deploy.declared", str(project_dir), stage],
        capture_output=True, text=True, timeout=120, check=False, cwd=project_dir,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if result.returncode != 0:
        raise RuntimeError(f"could not load the app in {project_dir}:\n{result.stderr.strip()}")
    return DeclaredApp.from_json(json.loads(result.stdout))


def declare_all(project_dirs: dict[str, Path], stage: str) -> dict[str, DeclaredApp]:
    """`declare` for several apps at once: each is a child process mostly importing."""
    workers = max(1, min(len(project_dirs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(declare, path, stage) for name, path in project_dirs.items()}
        return {name: future.result() for name, future in futures.items()}


def _inspect(project_dir: Path, stage: str) -> dict[str, Any]:
    # Imported here: only the child process pays for Chalice's deploy machinery.
    from chalice.cli.factory import CLIFactory
    from chalice.deploy import models
    from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder

    sys.path.insert(0, str(project_dir))
    factory = CLIFactory(project_dir=str(project_dir), environ=dict(os.environ))
    config = factory.create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    graph = ApplicationGraphBuilder().build(config, stage)
    resources = DependencyBuilder().build_dependencies(graph)

    functions, schedules, others = [], [], []
    api: dict[str, Any] | None = None
    for resource in resources:
        if isinstance(resource, models.LambdaFunction):
            role = resource.role
            functions.append(asdict(DeclaredFunction(
                name=resource.function_name, handler=resource.handler,
                runtime=resource.runtime, environment=dict(resource.environment_variables),
                layers=list(resource.layers or []),
                role_name=role.role_name if isinstance(role, models.ManagedIAMRole) else "",
            )))
        elif isinstance(resource, models.ScheduledEvent):
            schedules.append(asdict(DeclaredSchedule(
                rule=resource.rule_name, expression=str(resource.schedule_expression),
                function=resource.lambda_function.function_name,
            )))
        elif isinstance(resource, models.RestAPI):
            routes = [
                DeclaredRoute(path=path, method=method)
                for path, methods in sorted(app.routes.items())
                for method in sorted(methods)
            ]
            api = asdict(DeclaredApi(
                name=app.app_name, stage=resource.api_gateway_stage,
                function=resource.lambda_function.function_name, routes=routes,
            ))
        elif isinstance(resource, models.FunctionEventSubscriber):
            others.append(f"{type(resource).__name__} {resource.resource_name}")
    return {"app_name": app.app_name, "functions": functions, "api": api,
            "schedules": schedules, "other_sources": others}


def main(argv: list[str]) -> int:
    """The child's side of `declare`: argv is [project folder, stage]; prints the app's
    declaration as one JSON object and returns 0. Chalice's errors (the app does not import,
    a bad `.chalice/config.json`) end the process with a traceback.
    """
    print(json.dumps(_inspect(Path(argv[0]).resolve(), argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
