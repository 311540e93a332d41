"""Hash sets, their entries, cases and case items.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hashsets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("source", sa.String(500)),
        sa.Column("category", sa.String(100)),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("file_path", sa.Text),
        sa.Column("file_sha256", sa.String(64)),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.Column("entry_count", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "hash_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("hashset_id", sa.Integer, sa.ForeignKey("hashsets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("signal", sa.String(16), nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("category", sa.String(100)),
        sa.Column("series", sa.String(200)),
        sa.Column("comment", sa.Text),
        sa.Column("ref", sa.String(200)),
    )
    op.create_index("ix_hash_entries_signal_value", "hash_entries", ["signal", "value"])
    op.create_index("ix_hash_entries_hashset", "hash_entries", ["hashset_id"])
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("threshold", sa.Integer, nullable=False),
        sa.Column("scanned_at", sa.DateTime, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_table(
        "case_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger),
        sa.Column("type", sa.String(100)),
        sa.Column("md5", sa.String(32)),
        sa.Column("sha1", sa.String(40)),
        sa.Column("sha256", sa.String(64)),
        sa.Column("pdq", sa.String(64)),
        sa.Column("pdq_quality", sa.Integer),
        sa.Column("duplicate_group", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("matches", sa.Text, nullable=False),
    )
    op.create_index("ix_case_items_case_id", "case_items", ["case_id"])


def downgrade() -> None:
    op.drop_table("case_items")
    op.drop_table("cases")
    op.drop_table("hash_entries")
    op.drop_table("hashsets")
