"""Real channels: where a participant came from, whether they can be reached, whether they
asked for no more messages, and the platform's id of each message sent.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Plain SQLAlchemy types, as in 0001, so this file never changes meaning.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("source", sa.String(64), nullable=True))
        batch.add_column(sa.Column("unreachable_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("unreachable_reason", sa.String(255), nullable=True))
        batch.add_column(sa.Column("stopped_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("platform_message_id", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("keyboard", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index(
        "ix_outbox_participant_id_status", "outbox", ["participant_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_participant_id_status", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("keyboard")
        batch.drop_column("platform_message_id")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("stopped_at")
        batch.drop_column("unreachable_reason")
        batch.drop_column("unreachable_at")
        batch.drop_column("source")
