"""`shop deploy`: every function app, its settings and its wiring, onto the target.

Order: settings (SSM, Secrets Manager) and the broker; then each app with Chalice;
then each HTTP app's URL into SSM, and a second pass that redeploys only the apps
whose resolved environment changed (on a first deploy, the URLs of the others);
then the Amazon MQ event-source mappings. An app whose sources, settings and policy
hash to the tag its functions carry is left alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from shop_local.apps import FunctionApp
from shop_local.deploy import broker, chalice_run, cloud_settings, mq_mappings, templates
from shop_local.deploy.declared import DeclaredApp, declare_all
from shop_local.deploy.endpoint import child_environment, emulator_kind
from shop_local.deploy.staging import SOURCE_HASH_TAG, StagedApp, stage_app
from shop_local.deploy.target import DeployTarget, Gap

Say = Callable[[str], None]


@dataclass
class DeployReport:
    """What a deploy did: per service `created`, `updated` or `unchanged`; report lines; the
    resources the emulator could not hold (gaps); problems, which make `shop deploy` exit 1.
    """
    outcomes: dict[str, str] = field(default_factory=dict)  # service -> created|updated|unchanged
    lines: list[str] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """One deploy's target, the local settings it seeds from (`.env` and SHOP_* variables), and
    the kind of emulator answering (`moto`, `localstack`, …).
    """
    target: DeployTarget
    env: dict[str, str]
    emulator: str

    @property
    def store(self) -> cloud_settings.SettingsStore:
        """The stage's SSM parameters and secrets at the target."""
        return cloud_settings.SettingsStore(self.target.names, self.target.client)


def stage_all(ctx: Context, apps: list[FunctionApp]) -> dict[str, StagedApp]:
    """Stage every app for the target (`stage_app`): the environment resolved from the stage's
    settings, the app's IAM policy (the generated one, or a default for an app without one).
    Returns the staged apps by service; OSError and pip's failures (RuntimeError) propagate.
    """
    services = [a.service for a in apps]
    environments = cloud_settings.resolve(ctx.store, services)
    policy_by_service = templates.policy_documents(ctx.target.stage, ctx.target.functions_dir)
    return {
        app.service: stage_app(
            app, ctx.target.stage, ctx.target.build_root, ctx.target.cache_dir,
            environments[app.service], policy_by_service.get(app.service)
            or _default_policy(app, ctx.target.stage), ctx.target.layer_dir,
        )
        for app in apps
    }


def _default_policy(app: FunctionApp, stage: str) -> dict[str, Any]:
    from shop_local.deploy.policies import policy_for

    return policy_for(app.service, app.app_name, stage, templates.consumes_mq(app.service))


def function_tag(ctx: Context, function_name: str) -> str | None:
    """The source hash a deployed function carries; None when it does not exist."""
    client = ctx.target.client("lambda")
    try:
        arn = client.get_function(FunctionName=function_name)["Configuration"]["FunctionArn"]
    except ClientError:
        return None
    tags: dict[str, str] = client.list_tags(Resource=arn).get("Tags", {})
    return tags.get(SOURCE_HASH_TAG, "")


def rest_api_exists(ctx: Context, staged: StagedApp) -> bool:
    """Whether the REST API Chalice recorded for the app's stage
    (`.chalice/deployed/<stage>.json`) still exists at the target (`GetRestApi`).
    """
    api = staged.deployed_resources(ctx.target.stage).get("rest_api")
    if api is None:
        return False
    try:
        ctx.target.client("apigateway").get_rest_api(restApiId=api["rest_api_id"])
    except ClientError:
        return False
    return True


def environment_drifted(ctx: Context, declared: DeclaredApp) -> bool:
    """A function's environment changed in the cloud behind the deploy's back."""
    client = ctx.target.client("lambda")
    for function in declared.functions:
        try:
            config = client.get_function_configuration(FunctionName=function.name)
        except ClientError:
            return True
        if config.get("Environment", {}).get("Variables", {}) != function.environment:
            return True
    return False


def why_deploy(ctx: Context, staged: StagedApp, declared: DeclaredApp) -> str | None:
    """Why the app must be deployed again; None when the cloud holds exactly this."""
    tags = [function_tag(ctx, f.name) for f in declared.functions]
    if any(tag is None for tag in tags):
        return "a function is missing"
    if any(tag != staged.source_hash for tag in tags):
        return "sources or settings changed"
    if declared.api is not None and not rest_api_exists(ctx, staged):
        return "its REST API is missing"
    if environment_drifted(ctx, declared):
        return "an environment was changed in the cloud"
    return None


def deploy_app(ctx: Context, staged: StagedApp, declared: DeclaredApp) -> tuple[str, str]:
    """Deploy the app if the cloud does not hold exactly it: (outcome, reason)."""
    if all(function_tag(ctx, f.name) is None for f in declared.functions):
        outcome, reason = "created", ""
    else:
        found = why_deploy(ctx, staged, declared)
        if found is None:
            return "unchanged", ""
        outcome, reason = "updated", found
    chalice_run.run(staged.directory, ctx.target.stage, "deploy", ctx.emulator,
                    child_environment(ctx.target.endpoint))
    keep_only_newest_package(staged)
    return outcome, reason


def keep_only_newest_package(staged: StagedApp) -> None:
    """Chalice names its zip after a hash of the whole source and reuses a zip of the
    same name (a settings-only redeploy then uploads without zipping again); older
    zips are never used again. One stays: the package this deploy uploaded."""
    if not staged.deployments_dir.is_dir():
        return
    packages = sorted(staged.deployments_dir.glob("*.zip"), key=lambda p: p.stat().st_mtime)
    for old in packages[:-1]:
        old.unlink()


def _describe(declared: DeclaredApp) -> str:
    parts = [f"{len(declared.functions)} function(s)"]
    if declared.api:
        parts.append(f"{len(declared.api.routes)} route(s)")
    if declared.schedules:
        parts.append(f"{len(declared.schedules)} schedule(s)")
    return ", ".join(parts)


def deploy_pass(
    ctx: Context, apps: list[FunctionApp], report: DeployReport, say: Say, quiet: bool = False
) -> dict[str, DeclaredApp]:
    """Stage and deploy every app once; `quiet` leaves unchanged apps unmentioned."""
    staged = stage_all(ctx, apps)
    declared = declare_all({s: app.directory for s, app in staged.items()}, ctx.target.stage)
    for service, app in staged.items():
        outcome, reason = deploy_app(ctx, app, declared[service])
        previous = report.outcomes.get(service)
        if previous is None:
            report.outcomes[service] = outcome
        elif previous == "unchanged" and outcome != "unchanged":
            report.outcomes[service] = "updated"
        if outcome != "unchanged" or not quiet:
            because = f" ({reason})" if reason else ""
            say(f"{service}: {outcome}{because}: {_describe(declared[service])}")
        api = app.deployed_resources(ctx.target.stage).get("rest_api")
        if api is not None:
            cloud_settings.publish_service_url(ctx.store, service, api["rest_api_url"])
    return declared


def deploy(target: DeployTarget, env: dict[str, str], say: Say) -> DeployReport:
    """`shop deploy`: lint the cloud templates, seed the stage's settings from `env`, ensure the
    broker, stage and `chalice deploy` each app whose source hash or environment changed
    (twice on a first deploy, once the apps' URLs are in SSM), then wire the Amazon MQ event-
    source mappings. `say` gets the progress lines. Returns the report; RuntimeError when
    there is no app, cfn-lint finds a problem or `chalice deploy` fails; botocore errors
    propagate.
    """
    report = DeployReport()
    ctx = Context(target, env, emulator_kind(target.endpoint))
    apps = target.apps()
    if not apps:
        raise RuntimeError(f"no function apps under {target.functions_dir}")
    say(f"deploying {', '.join(a.service for a in apps)} (stage {target.stage}) to "
        f"{target.endpoint.url} [{ctx.emulator}]")

    for name, template in (("shop-platform.json", templates.platform_template()),
                           ("shop-mq-mappings.json", templates.mq_mappings_template(
                               target.functions_dir))):
        findings = templates.lint(template)
        if findings:
            raise RuntimeError(f"cfn-lint found problems in {name}:\n" + "\n".join(findings))
    say("cloud templates: cfn-lint clean (shop-platform.json, shop-mq-mappings.json)")

    store = ctx.store
    cloud_settings.seed(store, env, [a.service for a in apps])
    say(f"settings: {len(store.changed)} parameter(s)/secret(s) written"
        if store.changed else "settings: unchanged")
    broker_credentials = store.secret(target.names.broker_secret) or "{}"
    broker_arn, broker_gap = broker.ensure_broker(target, broker_credentials)
    if broker_gap:
        report.gaps.append(broker_gap)

    declared = deploy_pass(ctx, apps, report, say)
    if _environment_moved(ctx, apps):
        say("the apps' URLs are in SSM now; deploying the apps whose environment names them")
        declared = deploy_pass(ctx, apps, report, say, quiet=True)

    # The mappings log in as the consuming app's own broker user, which may only read
    # its queues (and park messages in their .dlq), never as the broker's administrator.
    consumers = sorted({spec.service for spec in mq_mappings.load_specs()})
    mapping_secret = next((target.names.broker_user_secret(s) for s in consumers
                           if store.secret(target.names.broker_user_secret(s))), None)
    outcome = broker.wire_mappings(
        target, declared, broker_arn,
        broker.secret_arn(target, mapping_secret or target.names.broker_secret))
    report.lines += outcome.lines
    report.gaps += outcome.gaps
    report.problems += outcome.problems
    for line in outcome.lines:
        say(line)
    target.save_gaps(report.gaps)
    return report


def _environment_moved(ctx: Context, apps: list[FunctionApp]) -> bool:
    """True when an app's resolved environment differs from the one it was staged with:
    the first pass publishes each HTTP app's URL, which the others' environments name."""
    environments = cloud_settings.resolve(ctx.store, [a.service for a in apps])
    for app in apps:
        staged = ctx.target.build_root / app.service / ".chalice" / "config.json"
        if not staged.is_file():
            return True
        stage_settings = json.loads(staged.read_text())["stages"][ctx.target.stage]
        current = stage_settings.get("environment_variables", {})
        if any(current.get(k) != v for k, v in environments[app.service].items()):
            return True
    return False
