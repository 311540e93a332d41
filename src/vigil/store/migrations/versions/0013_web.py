"""The web UI: signed-in sessions (server-side, so sign-out and idle time-out end them at once), each
analyst's wellbeing settings and the count of previews they revealed (when, never which), and the
assessment of a case's files (a category set in the case grid).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column(
            "id", sa.String(64), primary_key=True
        ),  # SHA-256 of the cookie: a stolen database signs no one in
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("seen_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime),
    )
    op.create_table(
        "user_prefs",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("blur", sa.Integer, nullable=False, server_default="16"),  # CSS pixels of blur
        sa.Column("greyscale", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("reveal_seconds", sa.Integer, nullable=False, server_default="5"),
        sa.Column("break_after", sa.Integer, nullable=False, server_default="40"),  # reveals a day
    )
    op.create_table(
        "reveals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_reveals_user_at", "reveals", ["user_id", "at"])
    with op.batch_alter_table("case_items") as batch:
        batch.add_column(sa.Column("category", sa.String(100)))
        batch.add_column(sa.Column("assessed_by", sa.String(320)))
        batch.add_column(sa.Column("assessed_at", sa.DateTime))


def downgrade() -> None:
    with op.batch_alter_table("case_items") as batch:
        batch.drop_column("assessed_at")
        batch.drop_column("assessed_by")
        batch.drop_column("category")
    op.drop_index("ix_reveals_user_at", "reveals")
    op.drop_table("reveals")
    op.drop_table("user_prefs")
    op.drop_table("web_sessions")
