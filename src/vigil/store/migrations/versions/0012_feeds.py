"""Hash feeds: what each organisation publishes (an ordered log of its assessed hashes and opinions,
the sequence number being the subscribers' checkpoint), opinions subscribers send back, and this
instance's subscriptions with the state they have pulled so far.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_items",
        sa.Column("seq", sa.Integer, primary_key=True),  # the checkpoint: increasing, never reused
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("signal", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),  # hex, lower case
        sa.Column("opinion", sa.String(10), nullable=False),  # positive | negative | disputed
        sa.Column("category", sa.String(100)),
        sa.Column("labels", sa.Text),  # JSON: the classification the sharing rules are checked against
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_feed_items_org_seq", "feed_items", ["org_id", "seq"])
    op.create_index("ix_feed_items_key", "feed_items", ["org_id", "signal", "value"])
    op.create_table(
        "feed_opinions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=False),  # the publisher
        sa.Column("from_org_id", sa.Integer, nullable=False),
        sa.Column("signal", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("opinion", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_feed_opinions_key", "feed_opinions", ["org_id", "signal", "value"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("peer_id", sa.Integer, sa.ForeignKey("peers.id"), nullable=False),
        sa.Column(
            "org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False
        ),  # subscribing here
        sa.Column("feed", sa.String(200), nullable=False),
        sa.Column("set_name", sa.String(200), nullable=False, unique=True),
        sa.Column("checkpoint", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("dirty", sa.Boolean, nullable=False, server_default=sa.false()),  # the set needs rebuilding
        sa.Column("base_checkpoint", sa.BigInteger, nullable=False, server_default="0"),  # of the base set
        sa.Column("base_dirty", sa.Boolean, nullable=False, server_default=sa.true()),  # base must be rebuilt
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_sync_at", sa.DateTime),
        sa.Column("last_error", sa.Text),
    )
    op.create_table(
        "subscription_hashes",
        sa.Column(
            "subscription_id",
            sa.Integer,
            sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("signal", sa.String(16), primary_key=True),
        sa.Column("value", sa.String(128), primary_key=True),
        sa.Column("opinion", sa.String(10), nullable=False),  # positive | negative | disputed | deleted
        sa.Column("category", sa.String(100)),
        sa.Column(
            "seq", sa.BigInteger, nullable=False
        ),  # the checkpoint that last changed it (base: <= base's)
    )
    op.create_index("ix_subscription_hashes_seq", "subscription_hashes", ["subscription_id", "seq"])


def downgrade() -> None:
    for table in ("subscription_hashes", "subscriptions", "feed_opinions", "feed_items"):
        op.drop_table(table)
