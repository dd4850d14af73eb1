"""canonical emails

Every stored address is rewritten into the canonical form the service now uses for
sign-up, login and look-ups (shop_common.email_address.canonical_email: NFKC, IDNA
domain, case-folded local part), so accounts made before still sign in. The
`email = lower(email)` check goes: case folding is the rule now, and PostgreSQL's
lower() depends on the database's locale, so the two can disagree.

An address whose canonical form another account already holds is left as it is and
reported: merging two accounts is a decision for a person, not for a migration.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
import logging

import sqlalchemy as sa
from alembic import op

from shop_common.email_address import canonical_email

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.drop_constraint("users_email_lowercase", "users", type_="check")
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, email FROM users ORDER BY created_at, id"))
    taken = {email for _, email in connection.execute(sa.text("SELECT id, email FROM users"))}
    for user_id, email in rows.fetchall():
        try:
            canonical = canonical_email(email)
        except ValueError:
            log.warning("user %s: stored email is not a valid address; left unchanged", user_id)
            continue
        if canonical == email:
            continue
        if canonical in taken:
            log.warning("user %s: another account already has the canonical form of its "
                        "email; left unchanged", user_id)
            continue
        connection.execute(sa.text("UPDATE users SET email = :email WHERE id = :id"),
                           {"email": canonical, "id": user_id})
        taken.discard(email)
        taken.add(canonical)


def downgrade() -> None:
    # The rewritten addresses stay canonical: their old spellings are not kept.
    op.create_check_constraint("users_email_lowercase", "users", "email = lower(email)")
