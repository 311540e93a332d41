"""Sets record the id range of their entries; SQLite drops the index on hash_entries.hashset_id.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hashsets") as batch:
        batch.add_column(sa.Column("first_id", sa.BigInteger))
        batch.add_column(sa.Column("last_id", sa.BigInteger))
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE hashsets SET "
            "first_id = (SELECT min(id) FROM hash_entries WHERE hashset_id = hashsets.id), "
            "last_id = (SELECT max(id) FROM hash_entries WHERE hashset_id = hashsets.id)"
        )
    )
    if conn.dialect.name == "sqlite":  # a server database keeps it: concurrent writers interleave ids
        op.drop_index("ix_hash_entries_hashset", table_name="hash_entries")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_hash_entries_hashset", "hash_entries", ["hashset_id"])
    with op.batch_alter_table("hashsets") as batch:
        batch.drop_column("last_id")
        batch.drop_column("first_id")
