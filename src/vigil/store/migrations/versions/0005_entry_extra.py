"""Format-specific data an entry carries for export (VICS video `Segments`), as JSON text.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hash_entries") as batch:
        batch.add_column(sa.Column("extra", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("hash_entries") as batch:
        batch.drop_column("extra")
