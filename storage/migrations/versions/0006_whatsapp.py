"""WhatsApp: when we last heard from a participant (the 24-hour window), delivery status
reported by the platform per message, and the interactive contents created once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Plain SQLAlchemy types, as in 0001, so this file never changes meaning.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("last_inbound_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("delivery_status", sa.String(16), nullable=True))
        batch.add_column(sa.Column("delivery_error", sa.String(16), nullable=True))
    op.create_index("ix_outbox_platform_message_id", "outbox", ["platform_message_id"])
    op.create_table(
        "whatsapp_contents",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("sid", sa.String(34), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_whatsapp_contents"),
    )


def downgrade() -> None:
    op.drop_table("whatsapp_contents")
    op.drop_index("ix_outbox_platform_message_id", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("delivery_error")
        batch.drop_column("delivery_status")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("last_inbound_at")
