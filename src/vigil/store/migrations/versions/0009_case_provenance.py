"""Cases record what they were searched with (provenance JSON) and what was not examined (skipped).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("provenance", sa.Text))  # JSON: version, times, hash sets, options
        batch.add_column(sa.Column("skipped", sa.Text))  # JSON list of {"path", "reason"}


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("skipped")
        batch.drop_column("provenance")
