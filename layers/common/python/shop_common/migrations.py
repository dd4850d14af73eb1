"""The body of every service's Alembic `env.py`, so the four histories share one runner."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlalchemy import create_engine, pool


def run_alembic_env() -> None:
    """Run the migrations of the current Alembic context against its `sqlalchemy.url`.

    Offline mode (`alembic upgrade --sql`) prints SQL with literal values; online mode
    connects once (no pool) and runs each migration in its own transaction. Raises
    RuntimeError when `sqlalchemy.url` is not set, and what the database raises.
    """
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set for this migration run")
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def create_outbox_table(op: Any) -> None:
    """The outbox table of `shop_common.outbox.OutboxMixin`, for a service's first migration."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    # Only unpublished rows are ever scanned by the relay.
    op.create_index(
        "outbox_unpublished", "outbox", ["occurred_at"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
