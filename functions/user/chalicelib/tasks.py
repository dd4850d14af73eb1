"""One-off operations run from the `shop` command, outside any HTTP request."""

from __future__ import annotations

from chalicelib import users
from chalicelib.deps import runtime
from chalicelib.models import User
from shop_common.auth import SUPERADMIN
from shop_common.db import transaction
from shop_common.passwords import verify_password
from shop_common.superadmin_answer import SuperadminAnswer, SuperadminOutcome


def create_superadmin(email: str, password: str, name: str = "Superadmin") -> str:
    """Create the superadmin, or leave an existing account with that email as it is, and say
    which: a shop_common.superadmin_answer.SuperadminAnswer as JSON, whose outcome is
    "created", "exists", "other-password" (a superadmin whose password is not `password`) or
    "other-role" (an enduser's address: no account's role is ever changed here).
    pydantic.ValidationError when the email or password is not one sign-up accepts.
    """
    return _create_superadmin(email, password, name).to_json()


def _create_superadmin(email: str, password: str, name: str) -> SuperadminAnswer:
    from chalicelib.schemas import AdminCreateUserBody

    # Checked first, so that a wrong address or password is said as such, account or not.
    body = AdminCreateUserBody(email=email, password=password, name=name, role="superadmin")
    with transaction(runtime().sessions) as session:
        existing = users.find_by_email(session, body.email)
        if existing is not None:
            return _existing_account(existing, password)
    user = users.sign_up(runtime(), users.NewUser(body.email, body.password, body.name,
                                                  body.role))
    return SuperadminAnswer(SuperadminOutcome.CREATED, user.email,
                            f"superadmin {user.email} created")


def _existing_account(existing: User, password: str) -> SuperadminAnswer:
    """What `create_superadmin` says of an account that already has the address."""
    if existing.role != SUPERADMIN:
        return SuperadminAnswer(
            SuperadminOutcome.OTHER_ROLE, existing.email,
            f"account {existing.email} exists as an {existing.role} and was not made "
            "a superadmin")
    if verify_password(existing.password_hash, password):
        return SuperadminAnswer(SuperadminOutcome.EXISTS, existing.email,
                                f"superadmin {existing.email} exists")
    # Happens when `.env` was recreated over an old database: say so rather than let the
    # freshly printed password look like it works.
    return SuperadminAnswer(
        SuperadminOutcome.OTHER_PASSWORD, existing.email,
        f"superadmin {existing.email} exists, but its password is not the one in "
        "SHOP_SUPERADMIN_PASSWORD; it was left unchanged")
