"""Streamed scans: a scan writes its items straight into the case it is building (a case with no name
until the scan finishes and takes the name in one transaction), so nothing of the evidence is held in
memory and each item is stored once. Case items keep what matching and grouping need (the PDQ
rotations and mirrors, the video's frames, signals without a column) and mark a task's first item
(what `--resume` skips). The per-task JSON copy of every item (`scan_tasks`) goes.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("scan_tasks")  # an interrupted scan from before this version starts over
    op.execute("DELETE FROM scan_runs WHERE finished_at IS NULL")
    with op.batch_alter_table("cases") as batch:
        batch.alter_column("name", existing_type=sa.String(200), nullable=True)
    with op.batch_alter_table("scan_runs") as batch:
        batch.add_column(sa.Column("case_id", sa.Integer))
        batch.create_foreign_key("fk_scan_runs_case", "cases", ["case_id"], ["id"], ondelete="CASCADE")
    with op.batch_alter_table("case_items") as batch:
        batch.add_column(sa.Column("task", sa.Boolean))  # true on a task's first item, else NULL
        batch.add_column(sa.Column("dihedral", sa.LargeBinary))  # 8 PDQs of an image, 256 bytes
        batch.add_column(sa.Column("vpdq", sa.LargeBinary))  # a video's frames (vigil.signals.vpdq.pack)
        batch.add_column(sa.Column("other", sa.Text))  # JSON {signal: hex} of signals without a column


def downgrade() -> None:
    with op.batch_alter_table("case_items") as batch:
        for column in ("other", "vpdq", "dihedral", "task"):
            batch.drop_column(column)
    op.execute("DELETE FROM scan_runs")
    with op.batch_alter_table("scan_runs") as batch:
        batch.drop_constraint("fk_scan_runs_case", type_="foreignkey")
        batch.drop_column("case_id")
    op.execute("DELETE FROM cases WHERE name IS NULL")
    with op.batch_alter_table("cases") as batch:
        batch.alter_column("name", existing_type=sa.String(200), nullable=False)
    op.create_table(
        "scan_tasks",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("scan_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("items", sa.Text, nullable=False),
    )
