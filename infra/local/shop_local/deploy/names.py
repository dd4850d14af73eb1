"""Names of the cloud resources outside Chalice: one place for deploy, templates and policies."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "shop"


@dataclass(frozen=True)
class CloudNames:
    stage: str

    def parameter(self, *parts: str) -> str:
        return "/".join(("", PREFIX, self.stage, *parts))

    @property
    def parameter_path(self) -> str:
        return f"/{PREFIX}/{self.stage}/"

    def secret(self, *parts: str) -> str:
        return "/".join((PREFIX, self.stage, *parts))

    @property
    def secret_prefix(self) -> str:
        return f"{PREFIX}/{self.stage}/"

    @property
    def broker(self) -> str:
        return f"{PREFIX}-{self.stage}"

    @property
    def broker_secret(self) -> str:
        return self.secret("broker")

    def database_secret(self, service: str) -> str:
        return self.secret(service, "database")

    def private_key_secret(self, key_name: str) -> str:
        return self.secret("keys", "private", key_name)

    def public_key_secret(self, key_name: str) -> str:
        return self.secret("keys", "public", key_name)

    @property
    def keys_secret_prefix(self) -> str:
        return self.secret("keys") + "/"
