"""`shop deploy --verify`: list what exists on the target and compare it with what the apps declare.

"Declared" is Chalice's own application graph of each staged app (functions,
handlers, runtime, layers, environment, roles, REST routes, schedules) plus the
mapping file and the settings the deploy writes. A difference is anything declared
that is missing or different, or anything of these apps that exists undeclared.
What the emulator cannot hold (recorded by the deploy when the emulator refused it)
is listed on its own, never counted as present. Last, what was deployed must run:
each function's package is pulled back and cold-started locally (`cold_start`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shop_local.deploy import broker, cloud_settings, mq_mappings
from shop_local.deploy.cold_start import cold_start_all, smoke_events
from shop_local.deploy.declared import DeclaredApi, DeclaredApp, declare_all
from shop_local.deploy.deploy import Context, stage_all
from shop_local.deploy.plaintext import plaintext_credentials
from shop_local.deploy.staging import SOURCE_HASH_TAG, StagedApp
from shop_local.deploy.target import DeployTarget, Gap

Say = Callable[[str], None]
CORS_METHOD = "OPTIONS"  # Chalice adds it for CORS; apps never declare it


@dataclass
class VerifyReport:
    """What `shop deploy --verify` found: report lines by section, the differences (each makes
    it exit 1), the resources the emulator cannot hold, and counts of what checked out
    (`functions Active`, `routes wired`, …).
    """
    sections: dict[str, list[str]] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, section: str, line: str) -> None:
        """Append `line` to `section` (the section is created in order of first use)."""
        self.sections.setdefault(section, []).append(line)

    def differ(self, section: str, line: str) -> None:
        """Append `line` to `section` marked DIFFERENT, and count it as a difference."""
        self.add(section, f"{line}  <-- DIFFERENT")
        self.differences.append(line)

    def count(self, name: str) -> None:
        """Count one more `name` (e.g. `routes wired`) for the summary line."""
        self.counts[name] = self.counts.get(name, 0) + 1

    @property
    def ok(self) -> bool:
        """Whether nothing differs (the emulator's gaps do not count)."""
        return not self.differences

    def render(self) -> str:
        """The report as `shop deploy --verify` prints it: each section and its lines, the gaps,
        then one summary line and every difference again.
        """
        out: list[str] = []
        for title, lines in self.sections.items():
            out += [title, *(f"  {line}" for line in lines), ""]
        if self.gaps:
            out.append("the emulator cannot hold (built and proven well-formed, NOT created):")
            out += [f"  {gap.describe()}" for gap in self.gaps]
            out.append("")
        counts = ", ".join(f"{n} {name}" for name, n in self.counts.items())
        out.append(f"verify: {counts or 'nothing'}; {len(self.differences)} difference(s); "
                   f"{len(self.gaps)} the emulator cannot hold")
        out += [f"  difference: {d}" for d in self.differences]
        return "\n".join(out)


def _all_functions(target: DeployTarget) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for page in target.client("lambda").get_paginator("list_functions").paginate():
        found.update({f["FunctionName"]: f for f in page["Functions"]})
    return found


def check_functions(target: DeployTarget, app: DeclaredApp, staged: StagedApp,
                    cloud: dict[str, dict[str, Any]], report: VerifyReport) -> None:
    """Compare each declared function with the deployed one (`GetFunctionConfiguration`): state
    Active, runtime, handler, layers, environment (by name and value), the `shop:source-hash`
    tag against the staged app's, the role and its inline policy; and report deployed
    functions of the app's prefix that it does not declare. botocore errors propagate.
    """
    section = "functions"
    lam = target.client("lambda")
    policy = (staged.directory / ".chalice" / f"policy-{target.stage}.json").read_text()
    for declared in app.functions:
        if declared.name not in cloud:
            report.differ(section, f"{declared.name}: missing")
            continue
        config = lam.get_function_configuration(FunctionName=declared.name)
        layers = [layer["Arn"] for layer in config.get("Layers", [])]
        env = config.get("Environment", {}).get("Variables", {})
        line = (f"{declared.name}  {config.get('State')}  {config.get('Runtime')}  "
                f"{config.get('Handler')}  layers: {', '.join(layers) or '-'}  "
                f"environment: {', '.join(sorted(env)) or '-'}")
        problems = []
        if config.get("State") != "Active":
            problems.append(f"state {config.get('State')}")
        if config.get("Runtime") != declared.runtime:
            problems.append(f"runtime {config.get('Runtime')} != {declared.runtime}")
        if config.get("Handler") != declared.handler:
            problems.append(f"handler {config.get('Handler')} != {declared.handler}")
        if layers != declared.layers:
            problems.append(f"layers {layers} != {declared.layers}")
        if env != declared.environment:
            changed = sorted(k for k in set(env) | set(declared.environment)
                             if env.get(k) != declared.environment.get(k))
            problems.append(f"environment differs in {', '.join(changed)}")
        tags = lam.list_tags(Resource=config["FunctionArn"]).get("Tags", {})
        if tags.get(SOURCE_HASH_TAG) != staged.source_hash:
            problems.append("its code or settings differ from the checkout (run `shop deploy`)")
        if declared.role_name and not str(config.get("Role", "")).endswith(
                f"/{declared.role_name}"):
            problems.append(f"role {config.get('Role')} is not {declared.role_name}")
        elif declared.role_name and not _policy_matches(target, declared.role_name, policy):
            problems.append(f"role {declared.role_name} lacks the app's IAM policy")
        if problems:
            report.differ(section, f"{line}: {'; '.join(problems)}")
        else:
            report.add(section, line)
            report.count("functions Active")
    prefix = f"{app.app_name}-{target.stage}"
    declared_names = {f.name for f in app.functions}
    for name in sorted(cloud):
        if (name == prefix or name.startswith(prefix + "-")) and name not in declared_names:
            report.differ(section, f"{name}: exists but {app.app_name} does not declare it")


def check_plaintext_credentials(target: DeployTarget, app: DeclaredApp,
                                cloud: dict[str, dict[str, Any]], report: VerifyReport) -> None:
    """A function's environment must name its secrets, never hold them: any password in a
    URL, key or token found there is a difference (the report names it, not its value)."""
    section = "credentials in environments"
    lam = target.client("lambda")
    for declared in app.functions:
        if declared.name not in cloud:
            continue  # reported missing by check_functions
        env = lam.get_function_configuration(FunctionName=declared.name).get(
            "Environment", {}).get("Variables", {})
        findings = plaintext_credentials(env)
        for finding in findings:
            report.differ(section, f"{declared.name}: {finding.describe()}")
        if not findings:
            report.add(section, f"{declared.name}: secret names only")


def _policy_matches(target: DeployTarget, role_name: str, policy_text: str) -> bool:
    try:
        document = target.client("iam").get_role_policy(
            RoleName=role_name, PolicyName=role_name)["PolicyDocument"]
    except ClientError:
        return False
    if isinstance(document, str):
        document = json.loads(document)
    return bool(document == json.loads(policy_text))


def _find_api(target: DeployTarget, api: DeclaredApi, staged: StagedApp) -> str | None:
    recorded = staged.deployed_resources(target.stage).get("rest_api")
    items = target.client("apigateway").get_rest_apis(limit=500)["items"]
    ids = [item["id"] for item in items if item["name"] == api.name]
    if recorded and recorded["rest_api_id"] in ids:
        return str(recorded["rest_api_id"])
    return ids[0] if len(ids) == 1 else None


def check_routes(target: DeployTarget, app: DeclaredApp, staged: StagedApp,
                 cloud: dict[str, dict[str, Any]], report: VerifyReport) -> None:
    """Compare the app's routes with its REST API at the target: the API and its stage exist,
    each declared (path, method) exists as an `AWS_PROXY` integration of the API handler
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-
    integrations.html), and no other method than the OPTIONS Chalice adds for CORS exists.
    """
    section = "routes"
    api = app.api
    if api is None:
        return
    api_id = _find_api(target, api, staged)
    if api_id is None:
        report.differ(section, f"REST API {api.name}: missing")
        return
    gateway = target.client("apigateway")
    stages = [s["stageName"] for s in gateway.get_stages(restApiId=api_id).get("item", [])]
    if api.stage not in stages:
        report.differ(section, f"REST API {api.name} ({api_id}): stage {api.stage!r} missing")
    function_arn = cloud.get(api.function, {}).get("FunctionArn", f"<{api.function} missing>")
    methods: dict[tuple[str, str], str] = {}
    for resource in gateway.get_resources(restApiId=api_id, limit=500)["items"]:
        for method in resource.get("resourceMethods", {}):
            methods[(resource["path"], method)] = resource["id"]
    declared = {(route.path, route.method) for route in api.routes}
    for route in api.routes:
        label = f"{route.method:6} {route.path}  ({api.name} {api_id}/{api.stage})"
        resource_id = methods.get((route.path, route.method))
        if resource_id is None:
            report.differ(section, f"{label}: missing")
            continue
        integration = gateway.get_integration(
            restApiId=api_id, resourceId=resource_id, httpMethod=route.method)
        if integration.get("type", "").upper() != "AWS_PROXY" or (
                function_arn not in integration.get("uri", "")):
            report.differ(section, f"{label}: not wired to {api.function} "
                                   f"({integration.get('type')} {integration.get('uri')})")
            continue
        report.add(section, f"{label} -> {api.function}")
        report.count("routes wired")
    for path, method in sorted(methods):
        if method != CORS_METHOD and (path, method) not in declared:
            report.differ(section, f"{method} {path} ({api.name}): exists but not declared")


def check_schedules(target: DeployTarget, app: DeclaredApp,
                    cloud: dict[str, dict[str, Any]], report: VerifyReport) -> None:
    """Compare each declared schedule with its EventBridge rule: it exists, has the same
    expression and targets the function (`DescribeRule`, `ListTargetsByRule`).
    """
    section = "schedules"
    events = target.client("events")
    for schedule in app.schedules:
        label = f"{schedule.rule} {schedule.expression} -> {schedule.function}"
        try:
            rule = events.describe_rule(Name=schedule.rule)
        except ClientError:
            report.differ(section, f"{label}: rule missing")
            continue
        targets = events.list_targets_by_rule(Rule=schedule.rule)["Targets"]
        arn = cloud.get(schedule.function, {}).get("FunctionArn", "")
        if rule.get("ScheduleExpression") != schedule.expression or not any(
                arn and t["Arn"].startswith(arn) for t in targets):
            report.differ(section, f"{label}: rule has {rule.get('ScheduleExpression')} -> "
                                   f"{[t['Arn'] for t in targets]}")
            continue
        report.add(section, f"{label}  {rule.get('State')}")
        report.count("schedules wired")


def check_mappings(target: DeployTarget, declared: dict[str, DeclaredApp],
                   cloud: dict[str, dict[str, Any]], report: VerifyReport) -> None:
    """Compare the mapping file's Amazon MQ mappings with the target: the broker and each
    mapping exist (or are a recorded gap), no function of the apps has a mapping the file
    does not declare, and no SQS queue named `shop…` exists (none is declared).
    """
    section = "event-source mappings"
    gaps = {gap.name: gap for gap in target.load_gaps()}
    found_broker = broker.find_broker(target)
    broker_arn = str(found_broker["BrokerArn"]) if found_broker else None
    broker_gap = next((g for g in gaps.values() if g.resource == "Amazon MQ broker"), None)
    if found_broker:
        report.add("broker and queues", f"Amazon MQ broker {found_broker['BrokerName']} "
                                        f"({found_broker.get('EngineType', 'RABBITMQ')}) "
                                        f"{found_broker.get('BrokerState', '')}".rstrip())
    elif broker_gap:
        report.gaps.append(broker_gap)
    else:
        report.differ("broker and queues", f"Amazon MQ broker {target.names.broker}: missing")
    lam = target.client("lambda")
    for spec in mq_mappings.load_specs():
        app = declared.get(spec.service)
        if app is None:
            continue
        function = spec.function_name(app.app_name, target.stage)
        label = f"{spec.source_name} -> {function}"
        report.add("broker and queues", f"queue {spec.queue} (vhost {spec.vhost}) "
                                        f"consumed by {function}")
        current = broker.existing_mapping(target, function, broker_arn, spec.queue) \
            if broker_arn else None
        if current is not None:
            report.add(section,
                       f"{label}  {current.get('State')}  batch {current.get('BatchSize')}")
            report.count("mappings wired")
        elif label in gaps:
            report.gaps.append(gaps[label])
        else:
            report.differ(section, f"{label}: missing")
    for app in declared.values():
        for declared_function in app.functions:
            name = declared_function.name
            if name not in cloud:
                continue
            for mapping in lam.list_event_source_mappings(
                    FunctionName=name).get("EventSourceMappings", []):
                if broker_arn is None or mapping.get("EventSourceArn") != broker_arn:
                    report.differ(section, f"{mapping.get('EventSourceArn')} -> {name}: "
                                           "exists but no app or mapping file declares it")
    try:
        queues = target.client("sqs").list_queues(QueueNamePrefix="shop").get("QueueUrls", [])
    except (ClientError, BotoCoreError):
        queues = []
    report.add("broker and queues", f"SQS queues: {', '.join(queues) or 'none (none declared)'}")
    for url in queues:
        report.differ("broker and queues", f"SQS queue {url}: exists but not declared")


def check_settings(target: DeployTarget, env: dict[str, str], services: list[str],
                   with_url: list[str], report: VerifyReport) -> None:
    """List the stage's SSM parameters and secrets, and report each one a deploy leaves
    (`expected_parameters`, `expected_secrets`) that is missing.
    """
    store = cloud_settings.SettingsStore(target.names, target.client)
    databases = cloud_settings.services_with_database(env, services)
    params = store.parameters()
    for name in sorted(params):
        report.add("parameters (SSM)", f"{name} = {params[name]}")
    for name in cloud_settings.expected_parameters(target.names, services, databases, with_url):
        if name not in params:
            report.differ("parameters (SSM)", f"{name}: missing")
    secrets = store.secret_names()
    for name in secrets:
        report.add("secrets (Secrets Manager)", name)
    expected = cloud_settings.expected_secrets(
        target.names, databases,
        cloud_settings.services_with_user(env, services, "REDIS"),
        cloud_settings.services_with_user(env, services, "AMQP"))
    for name in expected:
        if name not in secrets:
            report.differ("secrets (Secrets Manager)", f"{name}: missing")


def check_cold_starts(target: DeployTarget, declared: dict[str, DeclaredApp],
                      staged: dict[str, StagedApp], cloud: dict[str, dict[str, Any]],
                      report: VerifyReport) -> None:
    """Pull each deployed package back and cold-start it locally (see deploy.cold_start)."""
    section = "cold starts (deployed packages, local Lambda service)"
    gateway = target.client("apigateway")
    api_ids: dict[str, str] = {}
    binary_types: dict[str, list[str]] = {}
    for service, app in declared.items():
        if app.api is None:
            continue
        api_id = _find_api(target, app.api, staged[service])
        if api_id is not None:
            api_ids[app.api.function] = api_id
            binary_types[app.api.function] = list(
                gateway.get_rest_api(restApiId=api_id).get("binaryMediaTypes", []))
    mq_functions = {spec.function_name(declared[spec.service].app_name, target.stage)
                    for spec in mq_mappings.load_specs() if spec.service in declared}
    events = {name: event for name, event in smoke_events(
        list(declared.values()), mq_functions, api_ids, binary_types).items() if name in cloud}
    local_copies = {function.name: package for service, app in declared.items()
                    if (package := staged[service].package()) is not None
                    for function in app.functions}
    work_dir = target.state_dir / target.stage / "verify-cold-starts"
    shutil.rmtree(work_dir, ignore_errors=True)
    # Extracted packages outlive the run: the next verify of an unchanged package reuses them.
    packages_dir = target.state_dir / target.stage / "verify-packages"
    for outcome in cold_start_all(target.client("lambda"), events, target.endpoint.url,
                                  work_dir, local_copies, packages_dir=packages_dir):
        if outcome.ok:
            report.add(section, outcome.line)
            report.count("functions cold-started")
        else:
            report.differ(section, outcome.line)


def verify(target: DeployTarget, env: dict[str, str]) -> VerifyReport:
    """`shop deploy --verify`: stage and declare each app as a deploy would, then check
    functions, plaintext credentials in their environments, routes, schedules, Amazon MQ
    mappings, settings and cold starts against the target. Returns the report (`ok` when
    nothing differs); RuntimeError when an app cannot be declared or staged; botocore errors
    propagate.
    """
    report = VerifyReport()
    apps = target.apps()
    ctx = Context(target, env, "unknown")
    staged = stage_all(ctx, apps)
    declared = declare_all({s: app.directory for s, app in staged.items()}, target.stage)
    cloud = _all_functions(target)
    for service, app in declared.items():
        check_functions(target, app, staged[service], cloud, report)
    for app in declared.values():
        check_plaintext_credentials(target, app, cloud, report)
    for service, app in declared.items():
        check_routes(target, app, staged[service], cloud, report)
    for app in declared.values():
        check_schedules(target, app, cloud, report)
    check_mappings(target, declared, cloud, report)
    with_url = [s for s, app in declared.items() if app.api is not None]
    check_settings(target, env, [a.service for a in apps], with_url, report)
    check_cold_starts(target, declared, staged, cloud, report)
    return report
