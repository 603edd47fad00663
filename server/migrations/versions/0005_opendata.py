"""open data: whether a corpus's owners publish its verified answers

Revision ID: 0005_opendata
Revises: 0001
Create Date: 2026-11-21

``corpora.licence`` already exists (0001); this adds the owners' consent. The boolean
server default is ``sa.false()`` so that existing rows get a value on SQLite and PostgreSQL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_opendata"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("corpora", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("open_data", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("corpora", schema=None) as batch_op:
        batch_op.drop_column("open_data")
