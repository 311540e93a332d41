"""Tables. Hashes are stored as raw bytes (16-32 bytes), never hex, to keep indexes small."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Hashset(Base):
    """A named hash list and where it came from."""

    __tablename__ = "hashsets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str | None] = mapped_column(String(500))
    category: Mapped[str | None] = mapped_column(String(100))  # default for entries without one
    format: Mapped[str] = mapped_column(String(20))
    file_path: Mapped[str | None] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    known: Mapped[bool] = mapped_column(Boolean, default=False)  # known-good: skip, don't flag
    version: Mapped[int] = mapped_column(Integer, default=1)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)  # an old version, kept for diffs
    first_id: Mapped[int | None] = mapped_column(BigInteger)  # its entries' id range (entryrange.py)
    last_id: Mapped[int | None] = mapped_column(BigInteger)


class HashEntry(Base):
    __tablename__ = "hash_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hashset_id: Mapped[int] = mapped_column(ForeignKey("hashsets.id", ondelete="CASCADE"))
    signal: Mapped[str] = mapped_column(String(16))
    value: Mapped[bytes] = mapped_column(LargeBinary)
    category: Mapped[str | None] = mapped_column(String(100))
    series: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    ref: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[str | None] = mapped_column(Text)  # JSON: format data kept for export

    # server databases only: SQLite selects a set's rows by id range (migration 0006)
    __table_args__ = (Index("ix_hash_entries_hashset", "hashset_id"),)


class Case(Base):
    """One scan of one evidence source: the case result that `vigil scan --json` writes out."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None while a scan is building it (vigil.store.scanruns): it takes its name when the scan ends
    name: Mapped[str | None] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(Text)
    threshold: Mapped[int] = mapped_column(Integer)
    scanned_at: Mapped[datetime] = mapped_column(DateTime)
    summary: Mapped[str] = mapped_column(Text)  # JSON
    provenance: Mapped[str | None] = mapped_column(Text)  # JSON: what it was searched with (0009)
    skipped: Mapped[str | None] = mapped_column(Text)  # JSON list of {"path", "reason"} (0009)


class CaseItem(Base):
    __tablename__ = "case_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    type: Mapped[str | None] = mapped_column(String(100))
    md5: Mapped[str | None] = mapped_column(String(32))
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64))
    pdq: Mapped[str | None] = mapped_column(String(64))
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    duplicate_group: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    matches: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    known: Mapped[str | None] = mapped_column(String(200))  # known-good set that lists it
    flags: Mapped[str | None] = mapped_column(Text)  # JSON list (vigil.scan.hashing.FLAGS)
    duration: Mapped[float | None] = mapped_column(Float)
    vpdq_frames: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(100))  # set in the web UI's case grid (0013)
    assessed_by: Mapped[str | None] = mapped_column(String(320))
    assessed_at: Mapped[datetime | None] = mapped_column(DateTime)
    task: Mapped[bool | None] = mapped_column(Boolean)  # True on a scan task's first item (0015)
    dihedral: Mapped[bytes | None] = mapped_column(LargeBinary)  # an image's 8 PDQ variants
    vpdq: Mapped[bytes | None] = mapped_column(LargeBinary)  # a video's frames, packed
    other: Mapped[str | None] = mapped_column(Text)  # JSON {signal: hex} of signals without a column


class ScanRun(Base):
    """A scan in progress or done: `vigil scan --resume` carries on from its finished tasks."""

    __tablename__ = "scan_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_name: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # the case it writes into: nameless until the run finishes (0015)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))


# -- the report service (vigil.reports) --------------------------------------------------------------


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    sector: Mapped[str] = mapped_column(String(30))  # hotline | law_enforcement | industry | ngo
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    created_at: Mapped[datetime] = mapped_column(DateTime)
    peer_id: Mapped[int | None] = mapped_column(ForeignKey("peers.id"))  # None: local; else it lives there


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(20))  # analyst | supervisor | admin
    password_hash: Mapped[str] = mapped_column(String(200))  # Argon2id, PHC string
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ApiToken(Base):
    """Tokens are shown once and stored as SHA-256: a stolen database yields no usable token."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Report(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    channel: Mapped[str] = mapped_column(String(20))  # api | public
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)  # the report as submitted (JSON), hashes only
    completeness: Mapped[int] = mapped_column(Integer)
    missing: Mapped[str] = mapped_column(Text)  # JSON list of {field, why}
    priority: Mapped[float] = mapped_column(Float, index=True)
    priority_rules: Mapped[str] = mapped_column(Text)  # JSON list of {rule, weight, why}
    status: Mapped[str] = mapped_column(String(20))  # new | assessed
    linked_to: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    repeats: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ReportFile(Base):
    __tablename__ = "report_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str | None] = mapped_column(Text)
    md5: Mapped[str | None] = mapped_column(String(32))
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64))
    pdq: Mapped[str | None] = mapped_column(String(64))
    matches: Mapped[str] = mapped_column(Text)  # JSON: hash-set matches at intake
    prior: Mapped[str | None] = mapped_column(Text)  # JSON: the earlier classification, when assessed before


class ReportKey(Base):
    """What links reports: a URL, a file hash, a reported account (per organisation)."""

    __tablename__ = "report_keys"
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(500), primary_key=True)
    __table_args__ = (Index("ix_report_keys_lookup", "org_id", "kind", "value"),)


class ReportShare(Base):
    __tablename__ = "report_shares"
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)


class Classification(Base):
    __tablename__ = "classifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("report_files.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    org_id: Mapped[int] = mapped_column(Integer)
    labels: Mapped[str] = mapped_column(Text)  # JSON {field: value}
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AuditEntry(Base):
    """Append-only; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(320))
    org_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    object: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# -- the network (vigil.exchange) ------------------------------------------------------------------


class Peer(Base):
    """Another Vigil instance, its pinned Ed25519 public key, and how delivery to it goes."""

    __tablename__ = "peers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    public_key: Mapped[str] = mapped_column(String(100))  # base64 of the 32 raw bytes
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class ShareRule(Base):
    """May an item with `label`=`value` leave `org_id` for a sector or a named organisation."""

    __tablename__ = "share_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(100))  # "*": any value
    effect: Mapped[str] = mapped_column(String(5))  # allow | deny
    sector: Mapped[str | None] = mapped_column(String(30))
    to_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class RouteRule(Base):
    """Forward a report classified `label`=`value` to a named organisation, or to the organisations
    of a sector in the report's hosting country."""

    __tablename__ = "route_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(100))
    sector: Mapped[str | None] = mapped_column(String(30))
    to_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ExchangeHop(Base):
    """One forward of a report, as its sender (`out`, on the sent report) or its receiver (`in`, on the
    report it made) recorded it; the message id joins the two."""

    __tablename__ = "exchange_hops"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(Integer)
    other_org_id: Mapped[int] = mapped_column(Integer)
    files: Mapped[str] = mapped_column(Text)
    labels: Mapped[str | None] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(200))
    history: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("message_id", "direction"),)


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64))
    hop_message_id: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    from_org_id: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("message_id", "report_id"),)


class OutboxMessage(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_at: Mapped[datetime] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class InboxMessage(Base):
    """A message id already applied: delivering it again changes nothing and gets the same answer."""

    __tablename__ = "inbox"
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    peer_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(DateTime)
    result: Mapped[str | None] = mapped_column(Text)


class Nonce(Base):
    """A signed request's nonce, kept until its signature expires, so a replay is refused."""

    __tablename__ = "nonces"
    nonce: Mapped[str] = mapped_column(String(100), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class InstanceKey(Base):
    __tablename__ = "instance_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    private_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class FeedItem(Base):
    """One change to an organisation's hash feed; `seq` orders them and is the subscribers' checkpoint."""

    __tablename__ = "feed_items"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    signal: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(128))
    opinion: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(100))
    labels: Mapped[str | None] = mapped_column(Text)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(DateTime)


class FeedOpinion(Base):
    """A subscriber's opinion of a published hash, sent back (e.g. a false positive on its platform)."""

    __tablename__ = "feed_opinions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer)
    from_org_id: Mapped[int] = mapped_column(Integer)
    signal: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(128))
    opinion: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime)


class Subscription(Base):
    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    feed: Mapped[str] = mapped_column(String(200))
    set_name: Mapped[str] = mapped_column(String(200), unique=True)
    checkpoint: Mapped[int] = mapped_column(BigInteger, default=0)
    dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    base_checkpoint: Mapped[int] = mapped_column(BigInteger, default=0)
    base_dirty: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class SubscriptionHash(Base):
    __tablename__ = "subscription_hashes"
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    signal: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(128), primary_key=True)
    opinion: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(BigInteger)  # the checkpoint that last changed it
    __table_args__ = (Index("ix_subscription_hashes_seq", "subscription_id", "seq"),)


class FeedReader(Base):
    """How far a reader (a local organisation or a peer's) has fetched a publisher's feed."""

    __tablename__ = "feed_readers"
    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reader: Mapped[str] = mapped_column(String(200), primary_key=True)
    sector: Mapped[str] = mapped_column(String(40))
    checkpoint: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)


# -- take it down (self-reported hashes) ------------------------------------------------------------


class SelfReport(Base):
    """Hashes a person sent of their own pictures: a case code (its SHA-256 kept), no identity."""

    __tablename__ = "self_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    submission: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seq: Mapped[int | None] = mapped_column(Integer)


class SelfReportHash(Base):
    __tablename__ = "self_report_hashes"
    report_id: Mapped[int] = mapped_column(
        ForeignKey("self_reports.id", ondelete="CASCADE"), primary_key=True
    )
    signal: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(128), primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    __table_args__ = (Index("ix_self_report_hashes_value", "org_id", "signal", "value"),)


class SelfReportVideo(Base):
    __tablename__ = "self_report_videos"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("self_reports.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(Integer, index=True)
    frames: Mapped[str] = mapped_column(Text)  # vPDQ text form


# -- the web UI (vigil.web) ------------------------------------------------------------------------


class WebSession(Base):
    """A signed-in browser: the cookie's SHA-256, its CSRF token, and when it was last used."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    seen_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)


class UserPrefs(Base):
    """Wellbeing settings of one user: how previews are shown and when to suggest a break."""

    __tablename__ = "user_prefs"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    blur: Mapped[int] = mapped_column(Integer, server_default="16")
    greyscale: Mapped[bool] = mapped_column(Boolean, server_default="1")
    reveal_seconds: Mapped[int] = mapped_column(Integer, server_default="5")
    break_after: Mapped[int] = mapped_column(Integer, server_default="40")


class Reveal(Base):
    """One preview revealed: who and when, never which (the audit log names the file)."""

    __tablename__ = "reveals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_reveals_user_at", "user_id", "at"),)
