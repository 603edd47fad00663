"""review queue: edit flag, verified answers' sources and provenance

Revision ID: 0002_review
Revises: 0001
Create Date: 2026-11-21

Generated with alembic autogenerate against a database at 0001, then checked by hand
(the boolean server default is ``sa.false()`` so that it is valid on PostgreSQL too).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_review"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verified_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verified_answer_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_verified_sources_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["verified_answer_id"],
            ["verified_answers.id"],
            name=op.f("fk_verified_sources_verified_answer_id_verified_answers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verified_sources")),
    )
    with op.batch_alter_table("verified_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verified_sources_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_verified_sources_verified_answer_id"),
            ["verified_answer_id"],
            unique=False,
        )

    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("edited", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_review_items_corpus_id"), ["corpus_id"], unique=False)

    with op.batch_alter_table("verified_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_review_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_verified_answers_source_review_id"), ["source_review_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("verified_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verified_answers_source_review_id"))
        batch_op.drop_column("source_review_id")

    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_items_corpus_id"))
        batch_op.drop_column("edited")

    with op.batch_alter_table("verified_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verified_sources_verified_answer_id"))
        batch_op.drop_index(batch_op.f("ix_verified_sources_document_id"))

    op.drop_table("verified_sources")
