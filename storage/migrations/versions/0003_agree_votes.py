"""Agree / disagree / pass votes on single ideas.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agree_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.String(length=100), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.Column("voted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"],
            name="fk_agree_votes_participant_id_participants", ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["ideas.id"], name="fk_agree_votes_idea_id_ideas", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agree_votes"),
        sa.UniqueConstraint(
            "participant_id", "idea_id", name="uq_agree_votes_participant_id_idea_id"
        ),
    )
    op.create_index("ix_agree_votes_flow_id", "agree_votes", ["flow_id"])


def downgrade() -> None:
    op.drop_index("ix_agree_votes_flow_id", table_name="agree_votes")
    op.drop_table("agree_votes")
