"""originals in the database: uploaded files are kept as parts in `original_parts`, so
that every app host reads them, and the shared session key in `instance_secrets`;
`document_versions.stored_path` only names a file an older install left on disk

Revision ID: 0009_issue21_originals
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import database

revision = "0009_issue21_originals"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "original_parts",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_original_parts_version_id_document_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "part", name=op.f("pk_original_parts")),
    )
    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_secrets")),
    )
    with op.batch_alter_table("document_versions") as batch:
        batch.alter_column("stored_path", existing_type=sa.String(length=500), nullable=True)


def downgrade() -> None:
    # The originals live only here now: going back would delete them without a trace.
    kept = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM original_parts")).scalar()
    if kept:
        raise RuntimeError("original_parts holds uploaded originals: export them first")
    with op.batch_alter_table("document_versions") as batch:
        batch.alter_column("stored_path", existing_type=sa.String(length=500), nullable=False)
    op.drop_table("instance_secrets")
    op.drop_table("original_parts")
