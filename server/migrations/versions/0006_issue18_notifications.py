"""e-mail notifications: addresses and preferences of accounts, the outbox, digest
entries, citizens' reply addresses, and what was told about each review item

Revision ID: 0006_issue18_notifications
Revises: 0001
Create Date: 2026-11-22

Review items that exist when this runs are marked as already announced, reminded and
told: switching e-mail on must not send a flood about the past.
"""

import sqlalchemy as sa
from alembic import op

import database

revision = "0006_issue18_notifications"
down_revision = "0001"
branch_labels = None
depends_on = None

FREQUENCY = sa.Enum(
    "immediate", "hourly", "daily", "off", name="frequency", native_enum=False, length=10
)
KIND = sa.Enum(
    "new_item",
    "digest",
    "overdue",
    "approved",
    "rejected",
    "test",
    name="messagekind",
    native_enum=False,
    length=20,
)
STATE = sa.Enum(
    "queued", "sending", "sent", "failed", name="messagestate", native_enum=False, length=20
)
WHEN = database.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it): a batch "move and copy" of users or review_items
    # would drop the old table, and on SQLite with foreign keys on, that deletes the rows
    # that point at it (memberships, tokens, review history).
    op.add_column("users", sa.Column("email", sa.String(length=254), nullable=True))
    op.add_column("users", sa.Column("notify", FREQUENCY, nullable=True))
    op.add_column(
        "users",
        sa.Column("notify_replies", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column(
        "users", sa.Column("language", sa.String(length=8), server_default="fr", nullable=False)
    )
    op.add_column("review_items", sa.Column("announced_at", WHEN, nullable=True))
    op.add_column("review_items", sa.Column("reminded_at", WHEN, nullable=True))
    op.add_column("review_items", sa.Column("told_at", WHEN, nullable=True))
    op.create_index(
        op.f("ix_review_items_announced_at"), "review_items", ["announced_at"], unique=False
    )
    op.execute(
        "UPDATE review_items SET announced_at = created_at, reminded_at = created_at, "
        "told_at = COALESCE(decided_at, created_at)"
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=True),
        sa.Column("to_masked", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("state", STATE, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("claimed_until", WHEN, nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_outbox_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_state"), "outbox", ["state"], unique=False)
    op.create_index(op.f("ix_outbox_next_attempt_at"), "outbox", ["next_attempt_at"], unique=False)
    op.create_index(op.f("ix_outbox_created_at"), "outbox", ["created_at"], unique=False)

    op.create_table(
        "digest_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("digested_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_digest_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["review_items.id"],
            name=op.f("fk_digest_entries_review_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_entries")),
    )
    op.create_index(op.f("ix_digest_entries_user_id"), "digest_entries", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_digest_entries_digested_at"), "digest_entries", ["digested_at"], unique=False
    )

    op.create_table(
        "reply_addresses",
        sa.Column("answer_id", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answers.id"],
            name=op.f("fk_reply_addresses_answer_id_answers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("answer_id", name=op.f("pk_reply_addresses")),
    )


def downgrade() -> None:
    op.drop_table("reply_addresses")
    op.drop_table("digest_entries")
    op.drop_table("outbox")
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_items_announced_at"))
        batch_op.drop_column("told_at")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("announced_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
        batch_op.drop_column("notify_replies")
        batch_op.drop_column("notify")
        batch_op.drop_column("email")
