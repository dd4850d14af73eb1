"""One-off operations run from the `shop` command, outside any HTTP request."""

from __future__ import annotations

from chalicelib import users
from chalicelib.deps import runtime
from shop_common.db import transaction
from shop_common.passwords import verify_password


def create_superadmin(email: str, password: str, name: str = "Superadmin") -> str:
    """Create the superadmin, or leave an existing account with that email as it is, and say
    which: "superadmin <email> created", "... exists", "... exists, but its password is not
    ... left unchanged", or, for an enduser's address, "account <email> exists as an enduser
    and was not made a superadmin" (no account's role is ever changed here).
    pydantic.ValidationError when the email or password is not one sign-up accepts.
    """
    from chalicelib.schemas import AdminCreateUserBody

    # Checked first, so that a wrong address or password is said as such, account or not.
    body = AdminCreateUserBody(email=email, password=password, name=name, role="superadmin")
    with transaction(runtime().sessions) as session:
        existing = users.find_by_email(session, body.email)
        if existing is not None and existing.role != "superadmin":
            return (f"account {existing.email} exists as an {existing.role} and was not made "
                    "a superadmin")
        if existing is not None:
            if verify_password(existing.password_hash, password):
                return f"superadmin {existing.email} exists"
            # Happens when `.env` was recreated over an old database: say so rather than
            # let the freshly printed password look like it works.
            return (f"superadmin {existing.email} exists, but its password is not the one in "
                    "SHOP_SUPERADMIN_PASSWORD; it was left unchanged")
    user = users.sign_up(runtime(), users.NewUser(body.email, body.password, body.name,
                                                  body.role))
    return f"superadmin {user.email} created"
