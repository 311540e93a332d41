"""Notice and takedown: per reported URL, the notices sent to its hosting provider, the availability
checks before each, removal and re-appearance; and every step as an event (what hotlines record).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "org_id",
            sa.Integer,
            sa.ForeignKey("organisations.id", name="fk_notices_org"),
            nullable=False,
        ),
        sa.Column(
            "report_id",
            sa.Integer,
            sa.ForeignKey("reports.id", ondelete="CASCADE", name="fk_notices_report"),
            nullable=False,
        ),
        sa.Column("url", sa.String(2000), nullable=False),  # normalised (vigil.reports.urls)
        sa.Column("provider", sa.String(200), nullable=False),  # the hosting provider's name
        sa.Column("hosting_country", sa.String(2), nullable=False),  # ISO 3166-1 alpha-2
        sa.Column("contact", sa.String(2000), nullable=False),  # abuse endpoint URL or e-mail address
        sa.Column("reference", sa.String(40), nullable=False),  # quoted to the host in every notice
        sa.Column("state", sa.String(20), nullable=False),  # vigil.exchange.notices.STATES
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("first_notice_at", sa.DateTime),
        sa.Column("last_notice_at", sa.DateTime),
        sa.Column("notices_sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_check_at", sa.DateTime),  # None: nothing scheduled (closed, moved, watch over)
        sa.Column("last_checked_at", sa.DateTime),
        sa.Column("last_check_result", sa.String(20)),
        sa.Column("removed_at", sa.DateTime),  # the latest confirmed removal; None while online
        sa.Column("reappeared_at", sa.DateTime),
        sa.Column("reappearances", sa.Integer, nullable=False, server_default="0"),
        sa.Column("outcome", sa.String(40)),  # the latest outcome recorded
        sa.UniqueConstraint("org_id", "url", name="uq_notices_org_url"),
        sa.UniqueConstraint("reference", name="uq_notices_reference"),
    )
    op.create_index("ix_notices_report", "notices", ["report_id"])
    op.create_index("ix_notices_due", "notices", ["next_check_at"])
    op.create_table(
        "notice_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "notice_id",
            sa.Integer,
            sa.ForeignKey("notices.id", ondelete="CASCADE", name="fk_notice_events_notice"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("action", sa.String(40), nullable=False),  # an outcome, a check result, notice_sent...
        sa.Column("detail", sa.Text, nullable=False),  # JSON
        sa.Column("actor", sa.String(320), nullable=False),
    )
    op.create_index("ix_notice_events_notice", "notice_events", ["notice_id", "at"])


def downgrade() -> None:
    op.drop_table("notice_events")
    op.drop_table("notices")
