"""parked messages: one row per message this service put into its dead-letter queue

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parked_messages",
        # sha256 of queue, message id and body: a redelivered batch finds the row.
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("queue", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("parked_messages")
