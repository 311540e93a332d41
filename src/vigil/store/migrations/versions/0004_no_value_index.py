"""Drop the index on hash values: exact look-ups use the sorted per-set segments beside the
database (vigil.index.exact), and without it an import appends rows instead of inserting random
keys into a B-tree (the difference between thousands and hundreds of thousands of rows a second).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_hash_entries_signal_value", table_name="hash_entries")


def downgrade() -> None:
    op.create_index("ix_hash_entries_signal_value", "hash_entries", ["signal", "value"])
