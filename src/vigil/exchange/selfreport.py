"""Take it down: a person hashes pictures of themselves on their own device and sends the hashes only.

What arrives is a list of MD5, SHA-256 and PDQ values (and a video's vPDQ), with no name, no address
and no picture. It is kept under a case code the person is shown once (only the code's SHA-256 is
stored, as with tokens and sessions), and becomes:
- entries of the organisation's own hash set `self-reported/ORG` (category `self_reported`: a
  separate opinion class, "self-reported, not assessed"), rebuilt from the submissions by the
  background rounds of `vigil serve` (not per submission, so intake keeps up with a flood), which the
  organisation's hash check, report intake and scans match against; an analyst sees the matches
  (which reports, which files), never a picture;
- items of the organisation's hash feed, opinion `self_reported`, labels `origin=self_reported`: the
  organisation's sharing rules decide who may read them (nothing leaves unless a rule allows, as for
  every feed item); a hash the feed already holds is not repeated (an assessed one stays assessed).

The status a case code shows is counts only: how many members may read the items and how many have
fetched them, and how many reported matches (`seen`, `positive`) or action (`actioned`) back through
the feed's opinions (exchange.receive)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from vigil.errors import NotFoundError, VigilError
from vigil.exchange import feeds, rulebook
from vigil.exchange.rules import Receiver, decide
from vigil.hashsets import Entry
from vigil.signals.vpdq import MIN_QUALITY, VpdqFrame, pack, parse_line, to_text
from vigil.store.db import Database, utcnow
from vigil.store.models import (
    FeedItem,
    FeedOpinion,
    FeedReader,
    Hashset,
    Organisation,
    SelfReport,
    SelfReportHash,
    SelfReportVideo,
)

OPINION = CATEGORY = "self_reported"
LABELS = {"origin": "self_reported"}  # what sharing rules see of every self-reported item
SET_PREFIX = "self-reported/"
FORMAT = "takeitdown"
MAX_ITEMS = 20  # pictures or videos per submission
MAX_FRAMES = 1800  # vPDQ frames per submission (30 minutes of video at one frame a second)
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U


class Replayed(VigilError):
    """This submission id was used before: the same submission sent again (HTTP 409)."""


@dataclass(frozen=True)
class Item:
    """One picture or video as the page hashed it."""

    kind: str  # image | video
    md5: str
    sha256: str
    pdq: str | None = None  # pictures
    quality: int | None = None
    frames: tuple[VpdqFrame, ...] = ()  # videos


def set_name(org_name: str) -> str:
    return SET_PREFIX + org_name


def new_code() -> str:
    """A case code: 80 random bits as 16 base-32 characters in groups of four, `TD-` before them."""
    n = secrets.randbits(80)
    chars = "".join(_ALPHABET[(n >> (5 * i)) & 31] for i in range(16))
    return "TD-" + "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def normalise_code(text: str) -> str | None:
    """The code as typed (any case, spaces or dashes, O for 0, I or L for 1), or None if it is not one."""
    raw = re.sub(r"[\s-]", "", (text or "")[:64]).upper().removeprefix("TD")
    raw = raw.translate(str.maketrans("OIL", "011"))
    return raw if len(raw) == 16 and all(c in _ALPHABET for c in raw) else None


def _code_hash(code: str) -> str | None:
    raw = normalise_code(code)
    return hashlib.sha256(raw.encode()).hexdigest() if raw else None


def check_items(items: list[Item]) -> list[dict]:
    """Problems as {field, message}: the API's models check shapes; this checks what they cannot."""
    problems = []
    if not 1 <= len(items) <= MAX_ITEMS:
        problems.append({"field": "/items", "message": f"1 to {MAX_ITEMS} pictures or videos"})
    if sum(len(i.frames) for i in items) > MAX_FRAMES:
        problems.append({"field": "/items", "message": f"at most {MAX_FRAMES} video frames in all"})
    for n, item in enumerate(items):
        if item.kind == "image" and item.pdq is None:
            problems.append({"field": f"/items/{n}/pdq", "message": "a picture needs its PDQ"})
        if item.kind == "video" and not item.frames:
            problems.append({"field": f"/items/{n}/vpdq", "message": "a video needs its vPDQ frames"})
    return problems


def _rows(items: list[Item]) -> tuple[dict[tuple[str, str], str], list[str]]:
    """({(signal, value): kind}, [vPDQ text of each video]); a video's frames of usable quality
    also count as PDQ values (a still taken from the video is then found too). A hash given twice
    is kept once."""
    rows: dict[tuple[str, str], str] = {}
    videos = []
    for item in items:
        rows.setdefault(("md5", item.md5.lower()), item.kind)
        rows.setdefault(("sha256", item.sha256.lower()), item.kind)
        if item.pdq and (item.quality or 0) >= MIN_QUALITY:
            rows.setdefault(("pdq", item.pdq.lower()), item.kind)
        for frame in item.frames:
            if frame.quality >= MIN_QUALITY:
                rows.setdefault(("pdq", frame.pdq.hex()), "video")
        if item.frames:
            videos.append(to_text(item.frames))
    return rows, videos


def submit(db: Database, org_id: int, submission: str, items: list[Item]) -> dict:
    """Store one submission in one transaction: the case, its hashes, the feed items. Returns the
    case code (shown once), how many hashes it holds and how many the organisation had not yet."""
    problems = check_items(items)
    if problems:
        from vigil.reports.errors import InvalidInput

        raise InvalidInput(problems, "the submission is not one the page makes")
    rows, videos = _rows(items)
    code = new_code()
    now = utcnow()
    try:
        with db.engine.begin() as conn:
            if conn.execute(select(SelfReport.id).where(SelfReport.submission == submission)).first():
                raise Replayed("this submission was received already (it is not stored twice)")
            report_id = conn.execute(
                insert(SelfReport).values(
                    org_id=org_id, code_hash=_code_hash(code), submission=submission, created_at=now
                )
            ).inserted_primary_key[0]
            conn.execute(
                insert(SelfReportHash),
                [
                    {"report_id": report_id, "org_id": org_id, "signal": s, "value": v, "kind": k}
                    for (s, v), k in rows.items()
                ],
            )
            if videos:
                conn.execute(
                    insert(SelfReportVideo),
                    [{"report_id": report_id, "org_id": org_id, "frames": text} for text in videos],
                )
            keys = set(rows)
            held = _feed_seqs(conn, org_id, keys)
            new = sorted(keys - held.keys())
            seqs = list(held.values())
            if new:
                seqs += conn.execute(
                    insert(FeedItem).returning(FeedItem.seq),
                    [
                        {
                            "org_id": org_id, "signal": s, "value": v, "opinion": OPINION,
                            "category": CATEGORY, "labels": json.dumps(LABELS), "deleted": False, "at": now,
                        }
                        for s, v in new
                    ],
                ).scalars().all()  # fmt: skip
            conn.execute(update(SelfReport).where(SelfReport.id == report_id).values(last_seq=max(seqs)))
    except IntegrityError:  # the same submission id stored by another request just now
        raise Replayed("this submission was received already (it is not stored twice)") from None
    return {"code": code, "hashes": len(keys), "new": len(new)}


def _feed_seqs(conn, org_id: int, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The first seq at which each of `keys` entered the organisation's feed (readers past it hold it)."""
    out: dict[tuple[str, str], int] = {}
    for row in feeds.history(conn, org_id, keys, (FeedItem.signal, FeedItem.value)):  # oldest first
        out.setdefault((row.signal, row.value), row.seq)
    return out


def status(db: Database, code: str) -> dict:
    """Counts only, for the person holding the code: when the hashes arrived (the day), how many,
    how many members may receive them and how many hold them, and how many members reported matches
    and action. An unknown code is NotFoundError (the same for a mistyped and a made-up one)."""
    digest = _code_hash(code)
    with db.engine.connect() as conn:
        case = (
            conn.execute(select(SelfReport.__table__).where(SelfReport.code_hash == digest)).first()
            if digest
            else None
        )
        if case is None:
            raise NotFoundError("no case has this code: check it letter by letter")
        keys = conn.execute(
            select(SelfReportHash.signal, SelfReportHash.value).where(SelfReportHash.report_id == case.id)
        ).all()
        rules = rulebook.share_rules(conn, case.org_id)
        readers = conn.execute(select(FeedReader.__table__).where(FeedReader.org_id == case.org_id)).all()
        may = [r for r in readers if decide(rules, LABELS, Receiver(r.reader, r.sector)).allowed]
        opinions = _opinions(conn, case.org_id, keys)
    holding = [r for r in may if case.last_seq is not None and r.checkpoint >= case.last_seq]
    return {
        "received": case.created_at.date().isoformat(),
        "hashes": len(keys),
        "members_receiving": len(may),
        "members_holding": len(holding),
        "members_reporting_matches": len(
            {o for o, kind in opinions if kind in ("seen", "positive", "actioned")}
        ),
        "members_acted": len({o for o, kind in opinions if kind == "actioned"}),
    }


def _opinions(conn, org_id: int, keys: list) -> set[tuple[int, str]]:
    """(member, opinion) pairs the organisation's subscribers sent back about these hashes."""
    out: set[tuple[int, str]] = set()
    for signal, values in feeds.by_signal(keys).items():
        for i in range(0, len(values), 500):
            out.update(
                conn.execute(
                    select(FeedOpinion.from_org_id, FeedOpinion.opinion).where(
                        FeedOpinion.org_id == org_id,
                        FeedOpinion.signal == signal,
                        FeedOpinion.value.in_(values[i : i + 500]),
                    )
                ).all()
            )
    return out


def rebuild_sets(db: Database) -> int:
    """Bring each organisation's `self-reported/ORG` set up to date with its submissions (those newer
    than the set's import); the number of sets rebuilt. Called by `vigil serve`'s background rounds."""
    from vigil.store.hashsets import HashsetRepository
    from vigil.store.setadmin import SEPARATOR, SetAdmin

    with db.engine.connect() as conn:
        latest = conn.execute(
            select(Organisation.id, Organisation.name, func.max(SelfReport.created_at))
            .join(SelfReport, SelfReport.org_id == Organisation.id)
            .group_by(Organisation.id, Organisation.name)
        ).all()
        imported = dict(
            conn.execute(
                select(Hashset.name, Hashset.imported_at).where(
                    Hashset.name.like(SET_PREFIX + "%"), Hashset.archived.is_(False)
                )
            ).all()
        )
    done = 0
    for org_id, org_name, newest in latest:
        name = set_name(org_name)
        if name in imported and imported[name] >= newest:
            continue
        info = HashsetRepository(db).import_entries(
            name, _entries(db, org_id), fmt=FORMAT, source="take it down (self-reported, not assessed)",
            category=CATEGORY, allow_empty=True, diff=False,
        )  # fmt: skip
        if info.version > 1:
            SetAdmin(db).delete(f"{name}{SEPARATOR}{info.version - 1}")  # the submissions are the history
        done += 1
    return done


def _entries(db: Database, org_id: int):
    with db.engine.connect() as conn:
        hashes = conn.execute(
            select(SelfReportHash.signal, SelfReportHash.value)
            .where(SelfReportHash.org_id == org_id)
            .distinct()
        )
        for signal, value in hashes:
            yield Entry(signal, bytes.fromhex(value), CATEGORY)
        for (text,) in conn.execute(select(SelfReportVideo.frames).where(SelfReportVideo.org_id == org_id)):
            yield Entry("vpdq", pack([parse_line(line) for line in text.splitlines()]), CATEGORY)
