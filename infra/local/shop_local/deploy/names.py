"""Names of the cloud resources outside Chalice: one place for deploy, templates and policies."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "shop"


@dataclass(frozen=True)
class CloudNames:
    """The names one stage's resources outside Chalice carry: SSM parameters under
    `/shop/<stage>/`, secrets under `shop/<stage>/`, the broker `shop-<stage>`.
    """
    stage: str

    def parameter(self, *parts: str) -> str:
        """An SSM parameter name: `/shop/<stage>/<part>/<part>…` (e.g.
        `/shop/dev/database/endpoint`).
        """
        return "/".join(("", PREFIX, self.stage, *parts))

    @property
    def parameter_path(self) -> str:
        """The SSM path every parameter of the stage is under, for `GetParametersByPath`:
        `/shop/<stage>/`.
        """
        return f"/{PREFIX}/{self.stage}/"

    def secret(self, *parts: str) -> str:
        """A Secrets Manager secret name: `shop/<stage>/<part>/<part>…`."""
        return "/".join((PREFIX, self.stage, *parts))

    @property
    def secret_prefix(self) -> str:
        """The prefix every secret of the stage starts with: `shop/<stage>/`."""
        return f"{PREFIX}/{self.stage}/"

    @property
    def broker(self) -> str:
        """The Amazon MQ broker's name: `shop-<stage>`."""
        return f"{PREFIX}-{self.stage}"

    @property
    def broker_secret(self) -> str:
        """The broker administrator's secret, `{"username", "password"}`: `shop/<stage>/broker`.
        """
        return self.secret("broker")

    def database_secret(self, service: str) -> str:
        """A service's database role, `{"username", "password"}`:
        `shop/<stage>/<service>/database`.
        """
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
        """A signing key's private half (PEM): `shop/<stage>/keys/private/<key>`."""
        return self.secret("keys", "private", key_name)

    def public_key_secret(self, key_name: str) -> str:
        """A signing key's public half (PEM): `shop/<stage>/keys/public/<key>`."""
        return self.secret("keys", "public", key_name)

    @property
    def keys_secret_prefix(self) -> str:
        """The prefix of every signing-key secret of the stage: `shop/<stage>/keys/`."""
        return self.secret("keys") + "/"
