"""Where the emulated cloud answers, and AWS clients that talk to it.

The address comes from localstack-client's settings, so the same variables that
point LocalStack's own tools somewhere point `shop deploy` there too:
`--endpoint`, else `AWS_ENDPOINT_URL`, else `LOCALSTACK_HOST`, else 127.0.0.1:4566
(localstack-client's own default is `localhost`, which may resolve to ::1 first;
the stack binds 127.0.0.1 only).
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests
from localstack_client import config as localstack_config

from shop_common.setting_values import url_port_setting
from shop_local.aws_local import LOCAL_REGION

DEFAULT_HOST = "127.0.0.1:4566"
REGION = LOCAL_REGION
# The emulators accept any credentials; fixed ones keep a developer's real AWS
# profile out of every call this module makes.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Endpoint:
    """The base URL of an emulated cloud (LocalStack or moto's server), every AWS service on one
    address, without a trailing slash.
    """
    url: str

    @classmethod
    def resolve(cls, explicit: str | None = None) -> Endpoint:
        """`explicit` (`host:port` or a URL), else localstack-client's settings:
        AWS_ENDPOINT_URL, else LOCALSTACK_HOST (`host:port`), else http://127.0.0.1:4566.
        SettingsError naming where it came from when it names a port that is not a number.
        """
        if explicit:
            url, source = explicit if "://" in explicit else f"http://{explicit}", "--endpoint"
        else:
            host = os.environ.get("LOCALSTACK_HOST", DEFAULT_HOST)
            url = str(localstack_config.get_service_endpoint("lambda", localstack_host=host)
                      or f"http://{DEFAULT_HOST}")
            source = ("AWS_ENDPOINT_URL" if os.environ.get("AWS_ENDPOINT_URL")
                      else "LOCALSTACK_HOST")
        url_port_setting({source: url}, source, default_port=4566)
        return cls(url.rstrip("/"))

    @property
    def host(self) -> str:
        """The endpoint's host name (127.0.0.1 when the URL names none)."""
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        """The endpoint's TCP port (4566, LocalStack's edge port, when the URL names none)."""
        return urlsplit(self.url).port or 4566

    @property
    def is_loopback(self) -> bool:
        """Whether the endpoint is on this machine (127.0.0.1, localhost or ::1): only there may
        the embedded emulator be started.
        """
        return self.host in LOOPBACK

    def environment(self) -> dict[str, str]:
        """Variables that point boto3, botocore and Chalice (in a child process) here."""
        return {
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }

    def client(self, service: str) -> Any:
        """A boto3 client of `service` at this endpoint, in region us-east-1 with the fixed
        dummy credentials, from a session of its own (never the default session or a
        profile). One client per service and endpoint is made and then shared: boto3
        clients are thread-safe, and making one loads its service model (~0.1 s).
        """
        return _client(self.url, service)


_clients_lock = threading.Lock()


@functools.cache
def _session() -> boto3.session.Session:
    # A session of its own: never the default one, which may carry a real profile.
    return boto3.session.Session(
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )


@functools.cache
def _client(url: str, service: str) -> Any:
    # A boto3 session is not thread-safe while it makes clients (the deploy declares apps
    # on worker threads); the clients it makes are.
    with _clients_lock:
        return _session().client(service, endpoint_url=url)


def child_environment(endpoint: Endpoint, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child that deploys: no profile, no real credentials, no token."""
    env = dict(os.environ if base is None else base)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE"):
        env.pop(name, None)
    env.update(endpoint.environment())
    return env


def answers(endpoint: Endpoint, timeout: float = 1.0) -> bool:
    """Whether anything answers HTTP at the endpoint within `timeout` seconds (any status
    counts).
    """
    try:
        requests.get(endpoint.url, timeout=timeout)
    except requests.RequestException:
        return False
    return True


def emulator_kind(endpoint: Endpoint) -> str:
    """`localstack`, `moto` or `unknown`: the two disagree on what they can hold."""
    try:
        if requests.get(f"{endpoint.url}/_localstack/health", timeout=2).status_code == 200:
            return "localstack"
        if requests.get(f"{endpoint.url}/moto-api/", timeout=2).status_code == 200:
            return "moto"
    except requests.RequestException:
        pass
    return "unknown"
