"""Request bodies and the public shape of a user (never the password hash), as pydantic models.

The same models validate requests, shape responses and make the OpenAPI document.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from chalicelib.models import User
from shop_common.api_models import Timestamp
from shop_common.email_address import CanonicalEmail
from shop_common.validation import StrictBody

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS = frozenset({
    "password123", "password1234", "1234567890", "qwertyuiop", "letmein123",
    "iloveyou123", "welcome123", "administrator", "passw0rd123", "qwerty12345",
})


def check_password_strength(password: str) -> str:
    if password.lower() in COMMON_PASSWORDS:
        raise ValueError("this password is too common")
    has_letter = any(c.isalpha() for c in password)
    has_other = any(not c.isalpha() for c in password)
    if not (has_letter and has_other):
        raise ValueError("use letters and at least one digit or symbol")
    if len(set(password)) < 5:
        raise ValueError("use at least 5 different characters")
    return password


Password = Annotated[
    str,
    Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH,
          description=f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters, at least 5 "
                      "different, letters and at least one digit or symbol, not a common "
                      "password"),
    AfterValidator(check_password_strength),
]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class RegisterBody(StrictBody):
    email: CanonicalEmail
    password: Password
    name: Name


class AdminCreateUserBody(RegisterBody):
    role: Literal["enduser", "superadmin"]


class LoginBody(StrictBody):
    # Canonical like at sign-up, so every spelling of the address reaches the account.
    email: CanonicalEmail
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, title="User")

    id: uuid.UUID
    email: str
    name: str
    role: Literal["enduser", "superadmin"]
    created_at: Timestamp


class TokenOut(BaseModel):
    access_token: str = Field(description="a user token (JWT); send as `Authorization: "
                                          "Bearer <access_token>`")
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="seconds until the token expires")


class PublicKey(BaseModel):
    """A JSON Web Key (RFC 7517) that verifies user tokens."""

    model_config = ConfigDict(extra="allow")

    kty: str
    kid: str
    alg: str
    use: Literal["sig"]


class KeySet(BaseModel):
    keys: list[PublicKey]


def user_view(user: User) -> dict[str, Any]:
    return UserOut.model_validate(user).model_dump(mode="json")
