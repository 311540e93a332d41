"""Hash set versions: a re-import archives the previous version (as NAME@VERSION) instead of
deleting it, so versions can be compared; archived sets never match.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hashsets") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("hashsets") as batch:
        batch.drop_column("archived")
        batch.drop_column("version")
