"""The network (exchange): organisations that live at a peer instance, sharing and routing rules,
forwarding hops, feedback, peers with pinned keys, the outbox, received message ids and nonces, and
this instance's signing key.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("public_key", sa.String(100), nullable=False),  # Ed25519, base64 of the 32 raw bytes
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_attempt_at", sa.DateTime),
        sa.Column("last_success_at", sa.DateTime),
        sa.Column("last_error", sa.Text),
    )
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(
            sa.Column("peer_id", sa.Integer, sa.ForeignKey("peers.id", name="fk_organisations_peer"))
        )
    op.create_table(
        "share_rules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False, index=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),  # "*": any value of the label
        sa.Column("effect", sa.String(5), nullable=False),  # allow | deny
        sa.Column("sector", sa.String(30)),  # the rule names a sector or an organisation
        sa.Column("to_org_id", sa.Integer, sa.ForeignKey("organisations.id")),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "route_rules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False, index=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("sector", sa.String(30)),  # ... of the report's hosting country
        sa.Column("to_org_id", sa.Integer, sa.ForeignKey("organisations.id")),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "exchange_hops",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),  # out | in
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("org_id", sa.Integer, nullable=False),  # this side's organisation
        sa.Column("other_org_id", sa.Integer, nullable=False),  # the other side's
        sa.Column("files", sa.Text, nullable=False),  # JSON list of positions in the sender's report
        sa.Column("labels", sa.Text),  # JSON: the sender's classification sent with it
        sa.Column("rule", sa.String(200), nullable=False),  # "by hand" or the rule that sent it
        sa.Column("history", sa.Text, nullable=False),  # JSON: the hops before this one
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("message_id", "direction"),
    )
    op.create_index("ix_exchange_hops_report", "exchange_hops", ["report_id"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("hop_message_id", sa.String(64), nullable=False),  # the forward it answers
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("from_org_id", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("message_id", "report_id"),  # given (on the receiver's copy) and received
    )
    op.create_index("ix_feedback_report", "feedback", ["report_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(64), nullable=False, unique=True),
        sa.Column("peer_id", sa.Integer, sa.ForeignKey("peers.id"), nullable=False),
        sa.Column("body", sa.Text, nullable=False),  # the message, JSON, as signed and sent
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_at", sa.DateTime, nullable=False),
        sa.Column("delivered_at", sa.DateTime),
        sa.Column("rejected_at", sa.DateTime),  # the peer refused it for good (kept, not retried)
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_outbox_peer", "outbox", ["peer_id", "delivered_at", "rejected_at", "id"])
    op.create_table(
        "inbox",
        sa.Column("message_id", sa.String(64), primary_key=True),
        sa.Column("peer_id", sa.Integer),  # None: delivered within this instance
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("result", sa.Text),  # JSON: what was made of it (answered again to a repeat)
    )
    op.create_table(
        "nonces",
        sa.Column("nonce", sa.String(100), primary_key=True),
        sa.Column("expires_at", sa.DateTime, nullable=False, index=True),
    )
    op.create_table(
        "instance_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("private_key", sa.Text, nullable=False),  # Ed25519, PKCS#8 PEM
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("instance_keys", "nonces", "inbox", "outbox", "feedback", "exchange_hops"):
        op.drop_table(table)
    op.drop_table("route_rules")
    op.drop_table("share_rules")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("peer_id")
    op.drop_table("peers")
