"""The event-source mapping file (infra/event-source-mappings.json), read and validated.

One file feeds the local MQ emulator, the broker topology and the cloud template, so
a queue, a batch size or a window is written down once. A profile ("local") overrides
mapping fields; the vhost follows the AMQP URL in use, the file's being the default.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shop_common.topology import DEFAULT_DELIVERY_LIMIT, QueueSpec, vhost_of
from shop_local.paths import MAPPINGS_FILE

LOCAL_PROFILE = "local"


class MappingFileError(RuntimeError):
    """The mapping file is missing or malformed; the message names the file and the field."""


class Broker(BaseModel):
    """The broker part of the mapping file: the Amazon MQ broker's name, the default vhost and
    the delivery limit of every quorum queue (`x-delivery-limit`, 1 to 1000) unless a mapping
    sets its own.
    """
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "shop"
    vhost: str = "shop"
    delivery_limit: int = Field(default=DEFAULT_DELIVERY_LIMIT, ge=1, le=1000)


class EventSourceMapping(BaseModel):
    """One queue feeding one function, with Lambda's batching settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    app: str
    function: str
    queue: str
    routing_key: str
    batch_size: int = Field(default=100, ge=1, le=10000)
    maximum_batching_window_seconds: float = Field(default=0.5, ge=0, le=300)
    delivery_limit: int | None = Field(default=None, ge=1, le=1000)


class EmulatorTuning(BaseModel):
    """Knobs only the local emulator has (AWS does not document its own)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Pause after a failed invocation, doubling up to the maximum: a failing
    # dependency (database down) must not burn through the delivery limit in
    # milliseconds and dead-letter every queued message.
    retry_backoff_seconds: float = Field(default=1.0, ge=0)
    max_retry_backoff_seconds: float = Field(default=30.0, ge=0)
    max_reconnect_backoff_seconds: float = Field(default=5.0, gt=0)


class MappingFile(BaseModel):
    """The whole mapping file: the broker, the mappings, the routing keys each service may
    publish, the profiles' overrides and the emulator's own tuning. Keys starting with `_`
    (comments) are ignored.
    """
    model_config = ConfigDict(frozen=True, extra="ignore")  # "_comment"

    broker: Broker = Broker()
    mappings: list[EventSourceMapping]
    # The routing keys each service publishes on shop.events: its broker user may
    # publish these and nothing else (RabbitMQ topic permissions).
    publishers: dict[str, list[str]] = Field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = Field(default_factory=dict)
    emulator: EmulatorTuning = EmulatorTuning()

    def apps(self) -> list[str]:
        """The function apps with at least one mapping, sorted (`["communication"]`)."""
        return sorted({m.app for m in self.mappings})

    def for_app(self, app: str) -> list[EventSourceMapping]:
        """The mappings of `app`, in the file's order."""
        return [m for m in self.mappings if m.app == app]

    def delivery_limit(self, mapping: EventSourceMapping) -> int:
        """The delivery limit of `mapping`'s queue: its own, else the broker's."""
        return mapping.delivery_limit or self.broker.delivery_limit

    def queue_specs(self) -> list[QueueSpec]:
        """The queues to declare: one per mapped queue, bound by every routing key mapped to it."""
        keys: dict[str, list[str]] = {}
        limits: dict[str, int] = {}
        for mapping in self.mappings:
            keys.setdefault(mapping.queue, [])
            if mapping.routing_key not in keys[mapping.queue]:
                keys[mapping.queue].append(mapping.routing_key)
            limits[mapping.queue] = self.delivery_limit(mapping)
        return [QueueSpec(queue, tuple(keys[queue]), limits[queue]) for queue in keys]


def apply_profile(parsed: MappingFile, profile: str | None) -> MappingFile:
    """`parsed` with the profile's field overrides applied to every mapping (the `local` profile
    shortens the batching window); unchanged for no profile or one the file does not have.
    pydantic's ValidationError when an override is invalid.
    """
    overrides = parsed.profiles.get(profile, {}) if profile else {}
    if not overrides:
        return parsed
    mappings = [
        EventSourceMapping.model_validate({**m.model_dump(), **overrides}) for m in parsed.mappings
    ]
    return parsed.model_copy(update={"mappings": mappings})


def describe_errors(raw: Any, error: ValidationError) -> str:
    """Pydantic's errors with each mapping named `app.function` instead of its index."""
    described = []
    for item in error.errors():
        location = [str(part) for part in item["loc"]]
        loc = item["loc"]
        if len(loc) >= 2 and loc[0] == "mappings" and isinstance(loc[1], int):
            try:
                entry = raw["mappings"][loc[1]]
                location[:2] = [f"mapping {entry.get('app')}.{entry.get('function')}"]
            except (KeyError, IndexError, TypeError, AttributeError):
                pass
        described.append(f"{': '.join(location)}: {item['msg']}")
    return "; ".join(described)


def load_mapping_file(path: Path = MAPPINGS_FILE, profile: str | None = LOCAL_PROFILE,
                      amqp_url: str | None = None) -> MappingFile:
    """Read the file, apply `profile`, and take the vhost from `amqp_url` when one is given.

    Raises MappingFileError naming the file, the mapping (`app.function`) and the field.
    """
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MappingFileError(f"{path}: {exc}") from exc
    try:
        parsed = apply_profile(MappingFile.model_validate(raw), profile)
    except ValidationError as exc:
        raise MappingFileError(f"{path}: {describe_errors(raw, exc)}") from exc
    if amqp_url:
        broker = parsed.broker.model_copy(update={"vhost": vhost_of(amqp_url)})
        parsed = parsed.model_copy(update={"broker": broker})
    return parsed
