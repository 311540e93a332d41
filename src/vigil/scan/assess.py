"""Assessing a case in the web UI: the case list, one page of a case's grid, a category set on files
(a duplicate group's representative stands for its whole group: review once), previews read back
from the evidence, the case's exports, and a hash set made of the assessed files.

Every read and write goes through vigil.store.cases.CaseQueries, bounded so a case of 100,000 items
pages as fast as one of ten. Previews are made from the evidence on request (nothing is stored):
blurred and greyed in their pixels (reporting.blur) unless a person reveals one, and only the
blurred ones are kept, in a small in-process cache. Views, exports and assessments are audited."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from vigil.classify import LEAST_SEVERE, SCHEMES, severity_rank, vics_code
from vigil.errors import NotFoundError, VigilError
from vigil.hashsets import Entry
from vigil.safetext import visible
from vigil.scan.hashing import FLAGS, Item
from vigil.scan.locate import read_many
from vigil.scan.locations import location
from vigil.scan.matching import NEAR_SIGNALS
from vigil.scan.reporting import blur, html_report, is_exact, picture, write_csv
from vigil.store.cases import CaseQueries, CaseRepository
from vigil.store.db import Database
from vigil.store.hashsets import HashsetRepository

DEFAULT_SCHEME = "us"  # VICS US: 0 non-pertinent, 1 CSAM, 2 child exploitive, 3 CGI/animation, 4 comparison
PAGE = 60  # tiles on one page of the grid
MAX_HITS = 100_000  # hits ordered by severity before the grid pages over them
LISTED = 50  # rows of the hits, flagged, groups and errors tables (the exports have them all)
BLURRED_PX = 128  # as in the HTML report: blurred to a few cells whatever the size
CLEAR_PX = 256
SET_FORMAT = "case"  # the format of a hash set made from a case's assessed files
PDQ_MIN_QUALITY = 50
MAX_NAME = 200  # case and hash-set names (the columns' width)


@dataclass(frozen=True)
class Actor:
    """Who does it, for the audit log (services do not import the report service's Principal)."""

    email: str
    org_id: int | None


# -- schemes --------------------------------------------------------------------------------------


def scheme_of(name: str | None) -> str:
    """A classification scheme's name (`us` or `legacy`); the default when none is given."""
    name = (name or DEFAULT_SCHEME).strip()
    if name not in SCHEMES:
        raise VigilError(f"scheme must be one of {', '.join(sorted(SCHEMES))}, got {name[:40]!r}")
    return name


def choices(scheme: str) -> list[dict]:
    """The category buttons of a scheme: key (its VICS code, a number key when 0-9) and label."""
    return [{"key": code, "label": label} for code, label in sorted(SCHEMES[scheme].items())]


# -- reading --------------------------------------------------------------------------------------


def cases(db: Database) -> list[dict]:
    return CaseQueries(db).cases()


def header(db: Database, name: str) -> dict:
    """The case `name` without its items; NotFoundError when there is none."""
    found = CaseQueries(db).header(name) if 0 < len(name) <= MAX_NAME else None
    if found is None:
        raise NotFoundError(f"no case named '{visible(name[:MAX_NAME])}'")
    return found


def _hit_order(item: dict) -> tuple:
    """Exact matches before near ones, the most severe category first, then by path."""
    rank = min((severity_rank(m.get("category")) for m in item["matches"]), default=99)
    return (0 if is_exact(item) else 1, rank, item["path"])


def _hits(q: CaseQueries, case_id: int) -> list[dict]:
    return sorted(q.hits(case_id, MAX_HITS), key=_hit_order)


def _with_groups(q: CaseQueries, case_id: int, items: list[dict]) -> list[dict]:
    sizes = q.group_sizes(case_id, sorted({it["duplicate_group"] for it in items} - {None}))
    for it in items:
        it["group_size"] = sizes.get(it["duplicate_group"], 1)
        it["exact"] = is_exact(it) if it["matches"] else False
        for m in it["matches"]:
            m["near"] = m.get("signal") in NEAR_SIGNALS
    return items


def case_page(db: Database, name: str, page: int, actor: Actor) -> dict:
    """What the case page shows: the case, its hits (exact first, most severe first), flagged files,
    duplicate groups, files that could not be read, and page `page` (from 1) of the grid of tiles.
    The view is audited."""
    q = CaseQueries(db)
    case = header(db, name)
    hits = _hits(q, case["id"])
    total, assessed = q.count_reviewable(case["id"])
    pages = max(1, -(-total // PAGE))
    page = min(max(1, page), pages)
    start = (page - 1) * PAGE
    tiles = hits[start : start + PAGE]
    if len(tiles) < PAGE:
        tiles += q.others(case["id"], max(0, start - len(hits)), PAGE - len(tiles))
    flagged, flagged_total = q.flagged(case["id"], LISTED)
    q.audit(actor.email, actor.org_id, "case.view", case["id"], {"case": case["name"], "page": page})
    return {
        "case": case,
        "hits": _with_groups(q, case["id"], hits[:LISTED]),
        "hit_count": len(hits),
        "flagged": flagged,
        "flagged_count": flagged_total,
        "groups": q.groups(case["id"], LISTED),
        "errors": q.errors(case["id"], LISTED),
        "tiles": _with_groups(q, case["id"], tiles),
        "reviewable": total,
        "reviewed": assessed,
        "page": page,
        "pages": pages,
        "flag_text": FLAGS,
    }


def item(db: Database, case: dict, item_id: int) -> dict:
    """Item `item_id` of `case` (a header), with its group's size; NotFoundError otherwise."""
    q = CaseQueries(db)
    found = q.items(case["id"], [item_id]).get(item_id)
    if found is None:
        raise NotFoundError(f"case '{visible(case['name'])}' has no item {item_id}")
    return _with_groups(q, case["id"], [found])[0]


# -- assessing ------------------------------------------------------------------------------------


def mark(
    db: Database,
    name: str,
    item_ids: list[int],
    category: str,
    scheme: str,
    actor: Actor,
    whole_group: bool = False,
) -> tuple[dict, int]:
    """Set `category` (a label of `scheme`) on the items `item_ids` of case `name` — with
    `whole_group`, on every member of their duplicate groups — as assessed by `actor`, audited in
    the same transaction. (case header, number of items set)."""
    labels = set(SCHEMES[scheme_of(scheme)].values())
    if category not in labels:
        raise VigilError(
            f"category must be one of {', '.join(sorted(labels))} (scheme {scheme}), got {category[:40]!r}"
        )
    if not item_ids:
        raise VigilError("no file was chosen: the form names no item")
    case = header(db, name)
    q = CaseQueries(db)
    found = q.items(case["id"], item_ids)
    missing = [i for i in item_ids if i not in found]
    if missing:
        raise NotFoundError(f"case '{visible(case['name'])}' has no item {missing[0]}")
    groups = sorted({it["duplicate_group"] for it in found.values()} - {None}) if whole_group else []
    detail = {"case": case["name"], "category": category, "scheme": scheme}
    detail.update({"ids": sorted(found)[:50], "groups": groups[:50]})
    done = q.assess(case["id"], sorted(found), groups, category, actor.email, actor.org_id, detail)
    return case, done


# -- previews -------------------------------------------------------------------------------------


class _Cache:
    """A small LRU of blurred previews (bytes) by key, shared by the server's threads."""

    def __init__(self, size: int):
        self.size, self.data, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        return None

    def put(self, key, value: bytes) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


BLURRED = _Cache(2048)  # ~3 KB each


def _jpeg(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=75)
    return buf.getvalue()


def _read(case: dict, it: dict) -> bytes | None:
    kind = it.get("type") or ""
    if it.get("error") or not (kind.startswith("image/") or kind.startswith("video/")):
        return None
    return next((data for _, data in read_many(Path(case["source"]), [it["path"]])), None)


def preview(db: Database, case: dict, item_id: int) -> bytes | None:
    """The blurred, greyscale JPEG preview of an item (clear pixels never leave this function), or
    None when the evidence cannot be read back or is not a picture."""
    it = item(db, case, item_id)
    key = (case["id"], str(case["scanned_at"]), item_id)
    cached = BLURRED.get(key)
    if cached is not None:
        return cached
    data = _read(case, it)
    image = picture(data, it["type"] or "", BLURRED_PX) if data is not None else None
    if image is None:
        return None
    out = _jpeg(blur(image))
    BLURRED.put(key, out)
    return out


def clear_preview(db: Database, case: dict, item_id: int) -> str | None:
    """The clear preview (a JPEG data URI, CLEAR_PX across) for a reveal, or None. Not cached."""
    it = item(db, case, item_id)
    data = _read(case, it)
    image = picture(data, it["type"] or "", CLEAR_PX) if data is not None else None
    if image is None:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(_jpeg(image)).decode()


# -- exports --------------------------------------------------------------------------------------

EXPORTS = ("json", "csv", "html", "vics")


def _report_item(it: dict, assessed: dict | None) -> dict:
    """A stored item as `vigil scan --json` writes it (Item.report's keys, in its order), with the
    assessment made in the web UI when there is one."""
    out = {
        "path": it["path"],
        "location": location(it["path"]),
        **{k: it[k] for k in ("size", "type", "md5", "sha1", "sha256", "pdq", "pdq_quality")},
        "matches": it["matches"],
        "duplicate_group": it["duplicate_group"],
        "error": it["error"],
        "known": it["known"],
        "disputed": Item(path=it["path"], matches=it["matches"]).disputed,
        "flags": it["flags"],
        "vpdq_frames": it["vpdq_frames"],
        "duration": it["duration"],
    }
    if assessed is not None:
        at = assessed["at"]
        out["assessment"] = {
            "category": assessed["category"],
            "by": assessed["by"],
            "at": at.isoformat(timespec="seconds") + "Z" if at is not None else None,
        }
    return out


def case_report(db: Database, name: str, actor: Actor, fmt: str) -> dict:
    """The case as `vigil scan --json` writes it (items with their web assessment); the export is
    audited."""
    case = header(db, name)
    loaded = CaseRepository(db).load(case["name"])
    if loaded is None:  # replaced or removed between the two reads
        raise NotFoundError(f"no case named '{visible(name[:MAX_NAME])}'")
    done = CaseQueries(db).assessments(case["id"])
    loaded["items"] = [_report_item(it, done.get(it["path"])) for it in loaded["items"]]
    CaseQueries(db).audit(
        actor.email, actor.org_id, "case.export", case["id"], {"case": case["name"], "format": fmt}
    )
    return loaded


def export_json(report: dict) -> str:
    """As `vigil scan --json` writes it: one item per line."""
    head = {k: v for k, v in report.items() if k != "items"}
    items = ",\n".join(json.dumps(it, ensure_ascii=False) for it in report["items"])
    return json.dumps(head, indent=1)[:-2] + ',\n "items": [\n' + items + "\n ]\n}\n"


def export_csv(report: dict) -> str:
    out = io.StringIO()
    write_csv(report, out)
    return out.getvalue()


def export_html(report: dict) -> str:
    """The static HTML report, with blurred thumbnails made from the evidence."""
    return html_report(report, Path(report["source"]))


def export_vics(report: dict) -> str:
    """VICS v2 #Cases JSON as `vigil case export --format vics` writes it; a category assessed here
    wins over the hash sets' (VICS US codes)."""
    from vigil.hashsets.writers import write_vics_case
    from vigil.scan.locations import folder_and_name

    items = []
    for it in report["items"]:
        folder, file_name = folder_and_name(it["path"])
        items.append({**it, "file_path": folder, "file_name": file_name})
    buf = io.StringIO()
    write_vics_case(report["case"], report["source"], items, buf)
    doc = json.loads(buf.getvalue())
    assessed = {
        it["md5"].upper(): vics_code(it["assessment"]["category"], "us")
        for it in report["items"]
        if it.get("assessment") and it.get("md5")
    }
    scan = report.get("scan") or {}
    for entry in doc.get("value", []):
        for media in entry.get("Media", []):
            if assessed.get(media["MD5"]) is not None:
                media["Category"] = assessed[media["MD5"]]
        if scan.get("vigil_version"):
            entry["SourceApplicationVersion"] = scan["vigil_version"]
        entry["VigilScan"] = scan
        entry["VigilSkipped"] = report.get("skipped") or []
    return json.dumps(doc, indent=1) + "\n"


def export(report: dict, fmt: str) -> str:
    return {"json": export_json, "csv": export_csv, "html": export_html, "vics": export_vics}[fmt](report)


# -- a hash set of the assessed files ------------------------------------------------------------


def set_entries(items: list[dict], everything: bool = False) -> list[Entry]:
    """Hash-set entries of assessed items: MD5, SHA-1 and SHA-256 (exact), PDQ when its quality is
    at least PDQ_MIN_QUALITY, each with the item's category. Files assessed as non-pertinent,
    comparison or uncategorised are left out unless `everything`."""
    out: dict[tuple[str, bytes], Entry] = {}
    for it in items:
        category = it["category"]
        if not everything and category in LEAST_SEVERE:
            continue
        signals = [(s, it[s]) for s in ("md5", "sha1", "sha256") if it[s]]
        if it["pdq"] and (it["pdq_quality"] or 0) >= PDQ_MIN_QUALITY:
            signals.append(("pdq", it["pdq"]))
        for signal, hexed in signals:
            try:
                value = bytes.fromhex(hexed)
            except ValueError:
                continue
            out.setdefault((signal, value), Entry(signal, value, category, ref=f"item:{it['id']}"))
    return list(out.values())


def export_set(db: Database, name: str, set_name: str, actor: Actor, everything: bool = False):
    """Make (or replace) hash set `set_name` of case `name`'s assessed files. A set of that name
    that was not made from a case is never replaced. The new set's HashsetInfo."""
    set_name = set_name.strip()
    if not set_name or len(set_name) > MAX_NAME or not set_name.isprintable():
        raise VigilError(
            f"hash set name: 1 to {MAX_NAME} printable characters, got '{visible(set_name[:MAX_NAME])}'"
        )
    case = header(db, name)
    repo = HashsetRepository(db)
    try:
        existing = repo.get(set_name)
    except NotFoundError:
        existing = None
    if existing is not None and existing.format != SET_FORMAT:
        raise VigilError(
            f"hash set '{visible(set_name)}' exists and was not made from a case (it is a "
            f"{existing.format} list from {visible(existing.source or 'an unknown source')}): "
            "it is not replaced; give another name"
        )
    q = CaseQueries(db)
    entries = set_entries(q.assessed(case["id"]), everything)
    if not entries:
        raise VigilError(
            f"case '{visible(case['name'])}' has no assessed file to add"
            + ("" if everything else " (non-pertinent, comparison and uncategorised files are left out)")
        )
    info = repo.import_entries(set_name, entries, fmt=SET_FORMAT, source=f"case {case['name']}"[:500])
    detail = {"case": case["name"], "hashset": set_name, "version": info.version, "entries": info.entries}
    q.audit(actor.email, actor.org_id, "case.hashset", case["id"], detail)
    return info
