"""Take it down: self-reported hashes (a case code, never an identity; the hashes, never a picture),
the submission ids that make a replayed submission harmless, and which readers have fetched an
organisation's feed how far (so a case code can say how many members hold its hashes). Opinions
widen to 20 characters for `self_reported`.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OPINIONS = (("feed_items", "opinion"), ("feed_opinions", "opinion"), ("subscription_hashes", "opinion"))


def upgrade() -> None:
    op.create_table(
        "self_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False, index=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),  # SHA-256 of the case code
        sa.Column("submission", sa.String(64), nullable=False, unique=True),  # the page's one-time id
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seq", sa.Integer),  # the feed's seq once its hashes are in the feed
    )
    op.create_table(
        "self_report_hashes",
        sa.Column(
            "report_id", sa.Integer, sa.ForeignKey("self_reports.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("signal", sa.String(16), primary_key=True),
        sa.Column("value", sa.String(128), primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),  # image | video
    )
    op.create_index("ix_self_report_hashes_value", "self_report_hashes", ["org_id", "signal", "value"])
    op.create_table(  # a video's vPDQ (its frames' PDQ are also rows of self_report_hashes)
        "self_report_videos",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "report_id",
            sa.Integer,
            sa.ForeignKey("self_reports.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("org_id", sa.Integer, nullable=False, index=True),
        sa.Column("frames", sa.Text, nullable=False),  # vPDQ text: frame,quality,pdq,timestamp lines
    )
    op.create_table(
        "feed_readers",
        sa.Column("org_id", sa.Integer, primary_key=True),  # the publisher
        sa.Column("reader", sa.String(200), primary_key=True),  # the organisation reading, by name
        sa.Column("sector", sa.String(40), nullable=False),
        sa.Column("checkpoint", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not hold VARCHAR to its length
        for table, column in OPINIONS:
            op.alter_column(table, column, type_=sa.String(20))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column in OPINIONS:
            op.alter_column(table, column, type_=sa.String(10))
    op.drop_table("feed_readers")
    op.drop_table("self_report_videos")
    op.drop_index("ix_self_report_hashes_value", "self_report_hashes")
    op.drop_table("self_report_hashes")
    op.drop_table("self_reports")
