"""Resumable scans: each scan run and the finished work of each of its tasks; case items keep flags.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_name", sa.String(200), nullable=False, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
    )
    op.create_table(
        "scan_tasks",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("scan_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("items", sa.Text, nullable=False),
    )
    with op.batch_alter_table("case_items") as batch:
        batch.add_column(sa.Column("flags", sa.Text))
        batch.add_column(sa.Column("duration", sa.Float))
        batch.add_column(sa.Column("vpdq_frames", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("case_items") as batch:
        batch.drop_column("vpdq_frames")
        batch.drop_column("duration")
        batch.drop_column("flags")
    op.drop_table("scan_tasks")
    op.drop_table("scan_runs")
