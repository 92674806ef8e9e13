"""Ideas and pairwise votes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Written by hand, like 0001, with plain SQLAlchemy types and conventional constraint names.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ideas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.String(length=100), nullable=False),
        sa.Column("step_id", sa.String(length=100), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_ideas_participant_id_participants",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ideas"),
    )
    op.create_index(
        "ix_ideas_flow_id_step_id_status", "ideas", ["flow_id", "step_id", "status"]
    )
    op.create_table(
        "pairwise_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.String(length=100), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("idea_low", sa.Integer(), nullable=False),
        sa.Column("idea_high", sa.Integer(), nullable=False),
        sa.Column("winner_id", sa.Integer(), nullable=True),
        sa.Column("voted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_pairwise_votes_participant_id_participants",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["idea_low"], ["ideas.id"], name="fk_pairwise_votes_idea_low_ideas",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idea_high"], ["ideas.id"], name="fk_pairwise_votes_idea_high_ideas",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["winner_id"], ["ideas.id"], name="fk_pairwise_votes_winner_id_ideas",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pairwise_votes"),
        sa.UniqueConstraint(
            "participant_id",
            "idea_low",
            "idea_high",
            name="uq_pairwise_votes_participant_id_idea_low_idea_high",
        ),
    )
    op.create_index("ix_pairwise_votes_flow_id", "pairwise_votes", ["flow_id"])


def downgrade() -> None:
    op.drop_index("ix_pairwise_votes_flow_id", table_name="pairwise_votes")
    op.drop_table("pairwise_votes")
    op.drop_index("ix_ideas_flow_id_step_id_status", table_name="ideas")
    op.drop_table("ideas")
