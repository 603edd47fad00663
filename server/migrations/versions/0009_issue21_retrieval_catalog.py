"""the retrieval catalog (chunks, active versions, generations, change log, pending
writes) moves into the application's database, so that several hosts share it

Revision ID: 0009_issue21_retrieval_catalog
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_issue21_retrieval_catalog"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "retrieval_chunks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("corpus", sa.String(), nullable=False),
        sa.Column("chunk_id", sa.String(), nullable=False),
        sa.Column("document_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("section", sa.Text(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("body_terms", sa.Text(), nullable=False),
        sa.Column("head_terms", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrieval_chunks")),
        sa.UniqueConstraint("corpus", "chunk_id", name=op.f("uq_retrieval_chunks_corpus")),
    )
    op.create_index(
        "ix_retrieval_chunks_document",
        "retrieval_chunks",
        ["corpus", "document_id", "version", "ordinal"],
    )
    op.create_table(
        "retrieval_active",
        sa.Column("corpus", sa.String(), nullable=False),
        sa.Column("document_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("corpus", "document_id", name=op.f("pk_retrieval_active")),
    )
    op.create_table(
        "retrieval_generations",
        sa.Column("corpus", sa.String(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("corpus", name=op.f("pk_retrieval_generations")),
    )
    op.create_table(
        "retrieval_changes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("corpus", sa.String(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("document_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrieval_changes")),
    )
    op.create_index(
        "ix_retrieval_changes_corpus_generation", "retrieval_changes", ["corpus", "generation"]
    )
    op.create_table(
        "retrieval_counters",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_retrieval_counters")),
    )
    op.create_table(
        "retrieval_pending",
        sa.Column("corpus", sa.String(), nullable=False),
        sa.Column("document_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "corpus", "document_id", "version", name=op.f("pk_retrieval_pending")
        ),
    )


def downgrade() -> None:
    op.drop_table("retrieval_pending")
    op.drop_table("retrieval_counters")
    op.drop_index("ix_retrieval_changes_corpus_generation", table_name="retrieval_changes")
    op.drop_table("retrieval_changes")
    op.drop_table("retrieval_generations")
    op.drop_table("retrieval_active")
    op.drop_index("ix_retrieval_chunks_document", table_name="retrieval_chunks")
    op.drop_table("retrieval_chunks")
