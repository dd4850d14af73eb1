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

    def redis_secret(self, service: str) -> str:
        """A service's Redis ACL user: {"username", "password"}."""
        return self.secret(service, "redis")

    def broker_user_secret(self, service: str) -> str:
        """A service's own broker user: {"username", "password"} (BASIC_AUTH's shape)."""
        return self.secret(service, "broker")

    def credential_secrets(self, service: str) -> list[str]:
        """Every secret a service's function reads its connection credentials from."""
        return [self.database_secret(service), self.redis_secret(service),
                self.broker_user_secret(service)]

    def private_key_secret(self, key_name: str) -> str:
        return self.secret("keys", "private", key_name)

    def public_key_secret(self, key_name: str) -> str:
        return self.secret("keys", "public", key_name)

    @property
    def keys_secret_prefix(self) -> str:
        return self.secret("keys") + "/"
