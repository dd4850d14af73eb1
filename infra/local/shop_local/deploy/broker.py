"""The Amazon MQ broker and the communication app's event-source mappings on the target.

A mapping is always built and proven well-formed first: botocore validates the exact
`CreateEventSourceMapping` call against the Lambda API model (and the deploy lints
the CloudFormation template built from the same spec). Then it is created. moto's
server refuses Amazon MQ sources ("Invalid EventSourceArn"); that refusal is
recorded and reported as something the emulator cannot hold. Nothing stands in
for the mapping: no other trigger is wired in its place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shop_local.aws_local import LOCAL_ACCOUNT, LOCAL_REGION
from shop_local.deploy import mq_mappings
from shop_local.deploy.declared import DeclaredApp
from shop_local.deploy.target import DeployTarget, Gap

BROKER_ENGINE_VERSION = "3.13"
PROOFS = ["botocore validated the exact CreateEventSourceMapping call",
          "cfn-lint passed on infra/aws/shop-mq-mappings.json"]


@dataclass
class MappingOutcome:
    """What wiring the mappings did: one report line per mapping created, updated, unchanged or
    skipped; the mappings the emulator could not hold (gaps); and problems, i.e. mappings the
    apps do not declare (each fails the deploy).
    """
    lines: list[str] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def find_broker(target: DeployTarget) -> dict[str, Any] | None:
    """The target's `ListBrokers` summary of the stage's broker (`shop-<stage>`), or None when
    there is none or the target does not answer the Amazon MQ API.
    """
    try:
        summaries = target.client("mq").list_brokers().get("BrokerSummaries", [])
    except (ClientError, BotoCoreError):
        return None
    found: dict[str, Any] | None = next(
        (b for b in summaries if b.get("BrokerName") == target.names.broker), None)
    return found


def ensure_broker(target: DeployTarget, credentials_json: str) -> tuple[str | None, Gap | None]:
    """The stage's Amazon MQ for RabbitMQ broker (single instance, mq.t3.micro, engine 3.13, not
    public), created with the administrator in `credentials_json` (`{"username",
    "password"}`) unless it exists. Returns (its ARN, None), or (None, a Gap) when the
    emulator refuses `CreateBroker` (https://docs.aws.amazon.com/amazon-mq/latest/api-
    reference/brokers.html). KeyError or ValueError when `credentials_json` is not that
    shape.
    """
    existing = find_broker(target)
    if existing is not None:
        return str(existing["BrokerArn"]), None
    credentials = json.loads(credentials_json)
    try:
        created = target.client("mq").create_broker(
            BrokerName=target.names.broker, EngineType="RABBITMQ",
            EngineVersion=BROKER_ENGINE_VERSION, HostInstanceType="mq.t3.micro",
            DeploymentMode="SINGLE_INSTANCE", PubliclyAccessible=False,
            AutoMinorVersionUpgrade=True,
            Users=[{"Username": credentials["username"], "Password": credentials["password"]}],
        )
    except (ClientError, BotoCoreError) as exc:
        return None, Gap("Amazon MQ broker", target.names.broker,
                         f"the emulator refused it: {exc}",
                         ["cfn-lint passed on infra/aws/shop-platform.json"])
    return str(created["BrokerArn"]), None


def secret_arn(target: DeployTarget, name: str) -> str:
    """The ARN of the Secrets Manager secret `name` (`DescribeSecret`). botocore's ClientError
    (ResourceNotFoundException) when it does not exist.
    """
    return str(target.client("secretsmanager").describe_secret(SecretId=name)["ARN"])


def existing_mapping(target: DeployTarget, function: str, broker_arn: str,
                     queue: str) -> dict[str, Any] | None:
    """The event-source mapping of `function` from `broker_arn` on `queue`
    (`ListEventSourceMappings` item), or None.
    """
    try:
        mappings = target.client("lambda").list_event_source_mappings(
            FunctionName=function).get("EventSourceMappings", [])
    except ClientError:
        return None
    found: dict[str, Any] | None = next(
        (m for m in mappings
         if m.get("EventSourceArn") == broker_arn and m.get("Queues") == [queue]), None)
    return found


def wire_mappings(
    target: DeployTarget, declared: dict[str, DeclaredApp], broker_arn: str | None,
    broker_secret_arn: str,
) -> MappingOutcome:
    """Create (or update the batch size of) each Amazon MQ event-source mapping of infra/event-
    source-mappings.json for the declared apps, from `broker_arn` with `broker_secret_arn` as
    the mapping's BASIC_AUTH source access
    (https://docs.aws.amazon.com/lambda/latest/dg/with-mq.html). Every call is first
    validated against botocore's Lambda model (ParamValidationError when malformed); a
    refusal by the emulator, or no broker to map from, becomes a gap, never another trigger.
    Returns the outcome; botocore errors of `UpdateEventSourceMapping` propagate.
    """
    outcome = MappingOutcome()
    source_arn = broker_arn or (
        f"arn:aws:mq:{LOCAL_REGION}:{LOCAL_ACCOUNT}:broker:{target.names.broker}:b-not-created")
    for spec in mq_mappings.load_specs():
        app = declared.get(spec.service)
        if app is None:
            outcome.lines.append(f"mapping {spec.source_name}: skipped, no {spec.service} app "
                                 "in this checkout")
            continue
        function = spec.function_name(app.app_name, target.stage)
        if app.function(function) is None:
            outcome.problems.append(
                f"mapping {spec.source_name}: the {spec.service} app declares no "
                f"lambda_function {spec.function!r} ({function})")
            continue
        params = mq_mappings.api_parameters(spec, function, source_arn, broker_secret_arn)
        mq_mappings.check_api_parameters(params)  # raises ParamValidationError if malformed
        label = f"{spec.source_name} -> {function}"
        if broker_arn is None:
            outcome.gaps.append(Gap("Amazon MQ event-source mapping", label,
                                    "no broker exists on the emulator to map from", PROOFS))
            continue
        current = existing_mapping(target, function, broker_arn, spec.queue)
        if current is not None:
            outcome.lines.append(f"mapping {label}: unchanged")
            if current.get("BatchSize") != spec.batch_size:
                target.client("lambda").update_event_source_mapping(
                    UUID=current["UUID"], BatchSize=spec.batch_size)
                outcome.lines[-1] = f"mapping {label}: updated"
            continue
        try:
            target.client("lambda").create_event_source_mapping(**params)
        except ClientError as exc:
            message = exc.response.get("Error", {}).get("Message", str(exc))
            outcome.gaps.append(Gap(
                "Amazon MQ event-source mapping", label,
                f"the emulator refused CreateEventSourceMapping ({message}); not created",
                PROOFS))
            continue
        outcome.lines.append(f"mapping {label}: created")
    return outcome
