"""The sender's way into the outbox: unsent rows of a channel in id order, in a partial
index, so a claim reads the oldest few due rows instead of every unsent one (a broadcast
puts 100,000 rows in the queue at once).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Plain SQLAlchemy types, as in 0001, so this file never changes meaning.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSENT = "status IN ('pending', 'sending')"


def upgrade() -> None:
    op.create_index("ix_outbox_unsent_channel_id", "outbox", ["channel", "id"],
                    sqlite_where=sa.text(UNSENT), postgresql_where=sa.text(UNSENT))


def downgrade() -> None:
    op.drop_index("ix_outbox_unsent_channel_id", table_name="outbox")
