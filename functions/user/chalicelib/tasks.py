"""One-off operations run from the `shop` command, outside any HTTP request."""

from __future__ import annotations

from chalicelib import users
from chalicelib.deps import runtime
from shop_common.db import transaction
from shop_common.passwords import verify_password


def create_superadmin(email: str, password: str, name: str = "Superadmin") -> str:
    """Create the superadmin, or leave an existing account with that email as it is."""
    with transaction(runtime().sessions) as session:
        existing = users.find_by_email(session, email)
        if existing is not None:
            if verify_password(existing.password_hash, password):
                return f"superadmin {existing.email} exists"
            # Happens when `.env` was recreated over an old database: say so rather than
            # let the freshly printed password look like it works.
            return (f"superadmin {existing.email} exists, but its password is not the one in "
                    "SHOP_SUPERADMIN_PASSWORD; it was left unchanged")
    from chalicelib.schemas import AdminCreateUserBody

    body = AdminCreateUserBody(email=email, password=password, name=name, role="superadmin")
    user = users.sign_up(runtime(), users.NewUser(body.email, body.password, body.name,
                                                  body.role))
    return f"superadmin {user.email} created"
