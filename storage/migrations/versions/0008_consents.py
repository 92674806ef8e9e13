"""Consents beyond taking part: whether a participant wants to hear about future
processes, asked at the close of one, given or withdrawn at any time.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Plain SQLAlchemy types, as in 0001, so this file never changes meaning.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("flow_id", sa.String(100), nullable=True),
        sa.Column("text_sha256", sa.String(64), nullable=True),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"],
                                name="fk_consents_participant_id_participants",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
        sa.UniqueConstraint("participant_id", "kind", name="uq_consents_participant_id_kind"),
    )


def downgrade() -> None:
    op.drop_table("consents")
