"""document versions name the process indexing them, so that a killed `guichet ingest` or
app is noticed at once by the next one

Revision ID: 0007_issue16_claimed_by
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_issue16_claimed_by"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document_versions") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document_versions") as batch:
        batch.drop_column("claimed_by")
