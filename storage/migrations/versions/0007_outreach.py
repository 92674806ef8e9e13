"""Outreach: reminders and announcements sent (once each), a flow's events done (once
each), invite codes, broadcasts (their outbox rows, each marked when its platform call
began), and the circle and source of each run.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Plain SQLAlchemy types, as in 0001, so this file never changes meaning.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"],
                                name="fk_notices_participant_id_participants",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
        sa.UniqueConstraint("participant_id", "kind", "key",
                            name="uq_notices_participant_id_kind_key"),
    )
    op.create_index("ix_notices_flow_id_kind", "notices", ["flow_id", "kind"])
    op.create_table(
        "flow_events",
        sa.Column("flow_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("flow_id", "kind", "key", name="pk_flow_events"),
    )
    op.create_table(
        "invites",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("flow_id", sa.String(100), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("circle", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_invites"),
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("flow_id", sa.String(100), nullable=False),
        sa.Column("spec", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("start_step", sa.String(100), nullable=True),
        sa.Column("send_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_broadcasts"),
        sa.UniqueConstraint("name", name="uq_broadcasts_name"),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("broadcast_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("attempted_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key("fk_outbox_broadcast_id_broadcasts", "broadcasts",
                                 ["broadcast_id"], ["id"], ondelete="SET NULL")
        batch.create_unique_constraint("uq_outbox_broadcast_id_participant_id",
                                       ["broadcast_id", "participant_id"])
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("circle", sa.String(64), nullable=True))
        batch.add_column(sa.Column("source", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("source")
        batch.drop_column("circle")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_broadcast_id_participant_id", type_="unique")
        batch.drop_constraint("fk_outbox_broadcast_id_broadcasts", type_="foreignkey")
        batch.drop_column("attempted_at")
        batch.drop_column("broadcast_id")
    op.drop_table("broadcasts")
    op.drop_table("invites")
    op.drop_table("flow_events")
    op.drop_index("ix_notices_flow_id_kind", table_name="notices")
    op.drop_table("notices")
