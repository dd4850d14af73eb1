"""Helpers for the events tests: mail, the emulator process, publishing, polling."""

from __future__ import annotations

import json
import mailbox
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pika

from shop_local.mappings import MAPPINGS_FILE
from shop_local.paths import ROOT
from tests.support.polling import wait_until
from tests.support.stack import ThrowawayStack

T = TypeVar("T")

# Fast emulator timings, so redeliveries and reconnects take fractions of a second.
FAST_EMULATOR = {
    "retry_backoff_seconds": 0.05,
    "max_retry_backoff_seconds": 0.2,
    "max_reconnect_backoff_seconds": 0.5,
}


def with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    return urlunsplit(parts._replace(netloc=f"{netloc}:{port}"))


def write_mappings(path: Path, mappings: list[dict[str, Any]] | None = None,
                   **broker: Any) -> Path:
    """A copy of the real mapping file with fast emulator timings (and other mappings)."""
    document = json.loads(MAPPINGS_FILE.read_text())
    document["emulator"] = dict(FAST_EMULATOR)
    document["broker"].update(broker)
    if mappings is not None:
        document["mappings"] = mappings
    path.write_text(json.dumps(document, indent=2))
    return path


# --- mail -------------------------------------------------------------------------

def read_maildir(maildir: Path) -> list[EmailMessage]:
    if not (maildir / "new").is_dir():
        return []
    box = mailbox.Maildir(maildir, create=False)
    found = []
    for key in box.iterkeys():
        message = message_from_bytes(box.get_bytes(key), policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def to_address(message: EmailMessage, address: str) -> bool:
    return str(message["To"]).lower() == address.lower()


def event_ids(messages: list[EmailMessage]) -> Counter[str]:
    return Counter(str(m["X-Shop-Event-Id"]) for m in messages)


def text_of(message: EmailMessage, part: str = "plain") -> str:
    body = message.get_body(preferencelist=(part,))
    assert body is not None, f"no {part} part"
    return str(body.get_content())


@dataclass
class MailSink:
    process: subprocess.Popen[bytes]
    port: int
    maildir: Path

    def messages(self) -> list[EmailMessage]:
        return read_maildir(self.maildir)

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if to_address(m, address)]

    def stop(self) -> None:
        stop_process(self.process)


# --- processes --------------------------------------------------------------------

def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class EmulatorProcess:
    process: subprocess.Popen[bytes]
    log_path: Path
    status_path: Path

    def status(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.status_path.read_text()))
        except (OSError, ValueError):
            return None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def consuming(self) -> bool:
        status = self.status()
        if self.process.poll() is not None:
            raise AssertionError(f"emulator exited:\n{self.log()[-3000:]}")
        return bool(status and status["mappings"]
                    and all(m["state"] == "consuming" for m in status["mappings"]))

    def wait_consuming(self, timeout: float = 30) -> None:
        wait_until(self.consuming, timeout, what="emulator consuming")

    def stop(self) -> None:
        stop_process(self.process)


def start_emulator(stack: ThrowawayStack, name: str, mappings: Path, app: str,
                   functions_dir: Path | None = None, **env: str) -> EmulatorProcess:
    log_path = stack.workdir / f"{name}-{uuid.uuid4().hex[:6]}.log"
    status_path = log_path.with_suffix(".status.json")
    command = [sys.executable, "-m", "shop_local.runtime.mq_emulator", "--mappings", str(mappings),
               "--app", app, "--status-file", str(status_path)]
    if functions_dir is not None:
        command += ["--functions-dir", str(functions_dir)]
    process = subprocess.Popen(command, env=stack.process_env(**env), cwd=ROOT,
                               stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    return EmulatorProcess(process, log_path, status_path)


# --- broker -----------------------------------------------------------------------

def event_body(event_type: str, data: dict[str, Any],
               event_id: str | None = None) -> tuple[str, bytes]:
    """A message body exactly as shop_common.outbox writes it."""
    event_id = event_id or str(uuid.uuid4())
    body = {"event_id": event_id, "type": event_type,
            "occurred_at": datetime.now(UTC).isoformat(), "data": data}
    return event_id, json.dumps(body).encode()


def publish(amqp_url: str, routing_key: str, body: bytes,
            properties: pika.BasicProperties | None = None, exchange: str = "shop.events") -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(exchange, routing_key, body,
                              properties or pika.BasicProperties(delivery_mode=2),
                              mandatory=True)
    finally:
        connection.close()


def publish_many(amqp_url: str, messages: list[tuple[str, bytes, pika.BasicProperties]],
                 exchange: str = "shop.events") -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for routing_key, body, properties in messages:
            channel.basic_publish(exchange, routing_key, body, properties, mandatory=True)
    finally:
        connection.close()


def drain(amqp_url: str, queue: str) -> list[tuple[pika.BasicProperties, bytes]]:
    """Take every message out of a queue (one nobody consumes, such as a .dlq)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    taken: list[tuple[pika.BasicProperties, bytes]] = []
    try:
        channel = connection.channel()
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return taken
            taken.append((properties, body))
    finally:
        connection.close()


def ready_count(amqp_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        connection.close()
