"""Known (known-good) hash sets: files they list are counted and skipped in a scan.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hashsets") as batch:
        batch.add_column(sa.Column("known", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("case_items") as batch:
        batch.add_column(sa.Column("known", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("case_items") as batch:
        batch.drop_column("known")
    with op.batch_alter_table("hashsets") as batch:
        batch.drop_column("known")
