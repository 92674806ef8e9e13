"""Participant rights: each run's consent (when, and to which exact text), the consent
texts themselves, a participant's erasure in progress (their farewell still to be sent),
and the admins' audit trail.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

Plain SQLAlchemy types, as in 0001, so this file never changes meaning.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("consent_at", sa.DateTime(), nullable=True))
        runs.add_column(sa.Column("consent_sha256", sa.String(64), nullable=True))
        runs.add_column(sa.Column("consent_asked", sa.String(64), nullable=True))
    with op.batch_alter_table("participants") as participants:
        participants.add_column(sa.Column("erasing_at", sa.DateTime(), nullable=True))
    op.create_table(
        "consent_texts",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("flow_id", sa.String(100), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_consent_texts"),
    )
    op.create_table(
        "admin_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(300), nullable=True),
        sa.Column("detail", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_admin_actions"),
    )
    op.create_index("ix_admin_actions_at", "admin_actions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_admin_actions_at", table_name="admin_actions")
    op.drop_table("admin_actions")
    op.drop_table("consent_texts")
    with op.batch_alter_table("participants") as participants:
        participants.drop_column("erasing_at")
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("consent_asked")
        runs.drop_column("consent_sha256")
        runs.drop_column("consent_at")
