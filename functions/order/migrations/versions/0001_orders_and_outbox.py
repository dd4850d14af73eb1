"""orders, voided keys and outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from shop_common.migrations import create_outbox_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("product_name", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(10, 2), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name="orders_quantity_positive"),
    )
    # "My orders" and "all orders", both newest first by keyset.
    op.create_index("orders_by_user", "orders", ["user_id", "created_at", "id"])
    op.create_index("orders_by_time", "orders", ["created_at", "id"])
    op.create_table(
        "voided_keys",
        sa.Column("idempotency_key", sa.String(255), primary_key=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_outbox_table(op)


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("voided_keys")
    op.drop_table("orders")
