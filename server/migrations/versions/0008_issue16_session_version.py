"""accounts carry a session version, raised when their owner signs out, so that a session
cookie saved before signing out is refused

Revision ID: 0008_issue16_session_version
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_issue16_session_version"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
