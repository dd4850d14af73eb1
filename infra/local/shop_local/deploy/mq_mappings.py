"""Amazon MQ (RabbitMQ) event-source mappings, from the one file the local emulator reads too.

`infra/event-source-mappings.json` is the single source: the local MQ emulator
reads it, and here it becomes both the CloudFormation resources of the cloud
template and the exact `CreateEventSourceMapping` call the deploy makes. Both are
built from one `MappingSpec`, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
from botocore.validate import validate_parameters

from shop_local.mappings import MappingFileError, load_mapping_file
from shop_local.paths import MAPPINGS_FILE

# AWS applies a 500 ms batching window to Amazon MQ sources when none is given, and
# its API takes whole seconds only: 0.5 s is expressed by leaving the field out.
AWS_DEFAULT_WINDOW_SECONDS = 0.5
MAX_WINDOW_SECONDS = 300
MAX_MQ_BATCH_SIZE = 10000


@dataclass(frozen=True)
class MappingSpec:
    """One Amazon MQ event-source mapping as the cloud gets it: the app and its
    `lambda_function`, the queue and vhost, the batch size (1 to 10,000) and the batching window
    in whole seconds (None: AWS's 500 ms default).
    https://docs.aws.amazon.com/lambda/latest/dg/with-mq.html
    """
    service: str  # the function app's folder under functions/
    function: str  # the Chalice `lambda_function` name inside that app
    queue: str
    vhost: str
    batch_size: int
    window_seconds: int | None  # None: AWS's default window (500 ms)

    @property
    def source_name(self) -> str:
        """How the Lambda event names the queue: `rmqMessagesByQueue` keys."""
        return f"{self.queue}::{self.vhost}"

    def function_name(self, app_name: str, stage: str) -> str:
        """Chalice's name for a `lambda_function` in the cloud."""
        return f"{app_name}-{stage}-{self.function}"


def aws_window(value: float, where: str) -> int | None:
    """The batching window (seconds) as `CreateEventSourceMapping` takes it: None for 0.5
    (Amazon MQ's default, which the API cannot express), else whole seconds 0 to 300
    (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html).
    MappingFileError, naming `where`, for anything else.
    """
    if value == AWS_DEFAULT_WINDOW_SECONDS:
        return None
    if value != int(value) or not 0 <= value <= MAX_WINDOW_SECONDS:
        raise MappingFileError(
            f"{where}: maximum_batching_window_seconds={value} cannot be deployed: AWS takes "
            f"whole seconds from 0 to {MAX_WINDOW_SECONDS} (or 0.5, its default for Amazon MQ)"
        )
    return int(value)


def load_specs(path: Path = MAPPINGS_FILE) -> list[MappingSpec]:
    """The cloud's mappings; a local profile's shorter window never reaches the cloud.

    Raises MappingFileError when the file cannot be read or says something AWS cannot take.
    """
    document = load_mapping_file(path, profile=None)
    specs = []
    for mapping in document.mappings:
        where = f"{path.name}: mapping {mapping.app}.{mapping.function}"
        if not 1 <= mapping.batch_size <= MAX_MQ_BATCH_SIZE:
            raise MappingFileError(f"{where}: batch_size must be 1..{MAX_MQ_BATCH_SIZE}")
        specs.append(MappingSpec(
            service=mapping.app, function=mapping.function, queue=mapping.queue,
            vhost=document.broker.vhost, batch_size=mapping.batch_size,
            window_seconds=aws_window(mapping.maximum_batching_window_seconds, where),
        ))
    return specs


def api_parameters(
    spec: MappingSpec, function_name: str, broker_arn: str, secret_arn: str
) -> dict[str, Any]:
    """The exact keyword arguments of `lambda.create_event_source_mapping`."""
    params: dict[str, Any] = {
        "FunctionName": function_name,
        "EventSourceArn": broker_arn,
        "Queues": [spec.queue],
        "BatchSize": spec.batch_size,
        "Enabled": True,
        "SourceAccessConfigurations": [
            {"Type": "BASIC_AUTH", "URI": secret_arn},
            {"Type": "VIRTUAL_HOST", "URI": spec.vhost},
        ],
    }
    if spec.window_seconds is not None:
        params["MaximumBatchingWindowInSeconds"] = spec.window_seconds
    return params


def check_api_parameters(params: dict[str, Any]) -> None:
    """botocore's own validation of the call against the Lambda API model; raises if bad."""
    model = botocore.session.get_session().get_service_model("lambda")
    validate_parameters(params, model.operation_model("CreateEventSourceMapping").input_shape)


def template_resource(spec: MappingSpec, app_name: str) -> dict[str, Any]:
    """The same mapping as an `AWS::Lambda::EventSourceMapping` of the cloud template."""
    properties: dict[str, Any] = {
        "FunctionName": {"Fn::Sub": spec.function_name(app_name, "${Stage}")},
        "EventSourceArn": {"Ref": "BrokerArn"},
        "Queues": [spec.queue],
        "BatchSize": spec.batch_size,
        "Enabled": True,
        "SourceAccessConfigurations": [
            {"Type": "BASIC_AUTH", "URI": {"Ref": "BrokerCredentialsSecretArn"}},
            {"Type": "VIRTUAL_HOST", "URI": spec.vhost},
        ],
    }
    if spec.window_seconds is not None:
        properties["MaximumBatchingWindowInSeconds"] = spec.window_seconds
    return {"Type": "AWS::Lambda::EventSourceMapping", "Properties": properties}
