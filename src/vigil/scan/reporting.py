"""Case outputs besides the JSON: CSV (one row per item) and a self-contained HTML report.

The CSV starts with `#` comment lines that say what the case was searched with (Vigil version,
times, hash sets with version and file SHA-256, thresholds, options, examiner, reference), then a
header row and one row per item, then one row per skipped entry (its reason in `skipped`). Names are
hostile data: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a
formula by a spreadsheet, so such a cell — and, to keep the rule reversible, one that starts with `'` —
is written with a `'` in front (OWASP's rule). Remove one leading `'` to get the value back.

The HTML report is one file an examiner can open anywhere, with no network: what was searched with,
summary, charts (inline SVG), the hits (exact before near, most severe category first) and hidden
content with thumbnails, duplicate groups with their members, files that could not be read, entries
not examined. Thumbnails are made from the evidence when the report is written and, by default,
**blurred and greyed in their pixels**: the file holds no clear picture (staff wellbeing, and a report
that can be passed on). `clear_thumbnails` embeds clear ones instead, blurred on screen until clicked;
the report says which it holds. Nothing of them is stored in the case database.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import TextIO

from vigil.classify import severity_rank
from vigil.safetext import visible
from vigil.scan.hashing import FLAGS, not_valid
from vigil.scan.locate import read_many
from vigil.scan.locations import location, shown
from vigil.scan.matching import NEAR_SIGNALS
from vigil.scan.pipeline import is_hidden

CSV_COLUMNS = (
    "path", "size", "type", "md5", "sha1", "sha256", "pdq", "pdq_quality", "duplicate_group",
    "known", "disputed", "flags", "error", "match_hashset", "match_signal", "match_distance",
    "match_category", "match_ranges", "matches", "location", "skipped",
)  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
THUMBNAIL_PX = 128
BLUR_CELLS = 8  # a blurred thumbnail keeps at most this many cells across (before smoothing)
MAX_THUMBNAILS = 500
MAX_GROUPS = 500  # duplicate groups listed with their members in the HTML report
MAX_MEMBERS = 50


def cell(value) -> object:
    """A CSV cell that a spreadsheet shows as text, never runs: see the module's rule."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _comment(key: str, value) -> str:
    return f"# {key}: {visible(str(value)) if value is not None else ''}"


def csv_comments(report: dict) -> list[str]:
    """The `#` lines at the top of the CSV: the case and what it was searched with."""
    scan = report.get("scan") or {}
    lines = [_comment("case", report["case"]), _comment("source", report["source"])]
    for key in ("vigil_version", "started_at", "finished_at", "examiner", "reference"):
        lines.append(_comment(key, scan.get(key)))
    for s in scan.get("hashsets", []):
        kind = "known-good" if s.get("known") else "matched"
        lines.append(
            _comment("hashset", f"{s['name']} version {s['version']} ({kind}, {s['format']}, "
                     f"{s['entries']} entries) file_sha256 {s['file_sha256'] or 'unknown'}")
        )  # fmt: skip
    for key in ("thresholds", "limits", "options"):
        if key in scan:
            lines.append(_comment(key, " ".join(f"{k}={v}" for k, v in scan[key].items())))
    lines.append(_comment("skipped", f"{len(report.get('skipped') or [])} entries not examined "
                          "(rows with a reason in the skipped column)"))  # fmt: skip
    lines.append("# cells starting with = + - @ tab CR or ' have a ' added in front (remove one to read)")
    return lines


def write_csv(report: dict, out: TextIO) -> None:
    """`#` comment lines, a header, one row per item (the closest match in its own columns, all
    matches as JSON in `matches`), one row per skipped entry."""
    for line in csv_comments(report):
        out.write(line + "\n")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for it in report["items"]:
        best = it["matches"][0] if it["matches"] else {}
        row = [
            *(it[k] if it[k] is not None else "" for k in CSV_COLUMNS[:9]),
            it["known"] or "",
            "yes" if it["disputed"] else "",
            ";".join(it["flags"]),
            it["error"] or "",
            best.get("hashset", ""),
            best.get("signal", ""),
            best.get("distance", ""),
            best.get("category") or "",
            json.dumps(best["ranges"]) if "ranges" in best else "",
            json.dumps(it["matches"], ensure_ascii=False) if it["matches"] else "",
            json.dumps(it.get("location") or [], ensure_ascii=False),
            "",
        ]
        writer.writerow([cell(v) for v in row])
    blank = [""] * (len(CSV_COLUMNS) - 3)
    for entry in report.get("skipped") or []:
        where = json.dumps(location(entry["path"]), ensure_ascii=False)
        writer.writerow([cell(entry["path"]), *blank, cell(where), cell(entry["reason"])])


def blur(image):
    """A thumbnail that shows where a picture is, not what it shows: greyscale, reduced to a few
    cells and smoothed — in its pixels, so the file holds nothing clearer."""
    from PIL import Image, ImageFilter

    image = image.convert("L")
    w, h = image.size
    scale = max(w, h) / BLUR_CELLS
    small = image.resize((max(1, round(w / scale)), max(1, round(h / scale))), Image.Resampling.BOX)
    return small.resize((w, h), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(radius=6))


def _wants_thumbnail(item: dict) -> bool:
    kind = item["type"] or ""
    readable = not item["error"] and not not_valid(item["flags"])
    return (kind.startswith("image/") or kind.startswith("video/")) and readable


def picture(data: bytes, kind: str, px: int):
    """The item's picture (a video's first frame) as RGB at most `px` across, or None."""
    try:
        from PIL import Image

        if kind.startswith("video/"):
            import av

            with av.open(io.BytesIO(data)) as container:
                image = next(container.decode(video=0)).to_image()
        else:
            image = Image.open(io.BytesIO(data))
            image.draft("RGB", (px * 2, px * 2))
        image = image.convert("RGB")
        image.thumbnail((px, px))
        return image
    except Exception:  # noqa: BLE001 - a picture that cannot be made is left out, not fatal
        return None


def _thumbnail(data: bytes, item: dict, clear: bool = False) -> str | None:
    """A small JPEG data URI of an image item's bytes (for videos, its first frame), or None;
    blurred in its pixels unless `clear`."""
    image = picture(data, item["type"] or "", THUMBNAIL_PX)
    if image is None:
        return None
    try:
        if not clear:
            image = blur(image)
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=70)
    except Exception:  # noqa: BLE001 - a thumbnail that cannot be made is left out, not fatal
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def thumbnails(evidence: Path, items: list[dict], clear: bool = False) -> dict[int, str | None]:
    """Thumbnails of `items` by id(item). Read back in one pass per container (read_many): an
    archive holding many hits is opened and decompressed once, not once per hit."""
    wanted = [it for it in items if _wants_thumbnail(it)]
    out: dict[int, str | None] = {id(it): None for it in items}
    where = [it.get("location") or it["path"] for it in wanted]
    for index, data in read_many(evidence, where):
        out[id(wanted[index])] = _thumbnail(data, wanted[index], clear)
    return out


def is_exact(item: dict) -> bool:
    return any(m["signal"] not in NEAR_SIGNALS for m in item["matches"])


def _hit_order(item: dict) -> tuple:
    rank = min(severity_rank(m["category"]) for m in item["matches"])
    return (rank, item["path"])


def _bars(counts: list[tuple[str, int]], colour: str) -> dict:
    """Geometry of a horizontal bar chart (rendered as inline SVG by the template)."""
    top = max((n for _, n in counts), default=1) or 1
    return {
        "height": 24 * len(counts) + 8,
        "bars": [
            {"label": label, "count": n, "y": 24 * i + 4, "width": round(300 * n / top, 1)}
            for i, (label, n) in enumerate(counts)
        ],
        "colour": colour,
    }


def _groups(items: list[dict]) -> list[dict]:
    """Duplicate groups with their members; a group that holds a hit says so."""
    members: dict[int, list[dict]] = {}
    for it in items:
        if it["duplicate_group"] is not None:
            members.setdefault(it["duplicate_group"], []).append(it)
    out = []
    for number in sorted(members):
        group = members[number]
        out.append({"number": number, "members": group, "has_hit": any(it["matches"] for it in group)})
    return out


def html_report(report: dict, evidence: Path, clear_thumbnails: bool = False) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    items = report["items"]
    hits = [it for it in items if it["matches"]]
    exact = sorted((it for it in hits if is_exact(it)), key=_hit_order)
    near = sorted((it for it in hits if not is_exact(it)), key=_hit_order)
    hidden = [it for it in items if is_hidden(it["flags"])]
    hidden_set = {id(it) for it in hidden}
    other = [it for it in items if id(it) not in hidden_set and set(it["flags"]) - {"altered-copy"}]
    groups = _groups(items)
    hit_groups = {g["number"] for g in groups if g["has_hit"]}
    same_as_hit = {id(it) for g in groups if g["has_hit"] for it in g["members"] if not it["matches"]}
    pictured = list({id(it): it for it in exact + near + hidden}.values())[:MAX_THUMBNAILS]
    thumbs = thumbnails(evidence, pictured, clear_thumbnails)
    types = report.get("types") or Counter((it["type"] or "unknown") for it in items).most_common(12)
    per_set = Counter(m["hashset"] for it in hits for m in it["matches"]).most_common(12)
    env = Environment(loader=PackageLoader("vigil.scan", "templates"), autoescape=select_autoescape())
    env.filters["visible"] = lambda text: visible(str(text)) if text is not None else ""
    env.filters["where"] = shown  # a `path`: its own escapes once, controls shown (as on the terminal)
    return env.get_template("report.html").render(
        case=report["case"],
        source=report["source"],
        scan=report.get("scan") or {},
        summary=report["summary"],
        exact=exact,
        near=near,
        hidden=hidden,
        other=other,
        errors=[it for it in items if it["error"]],
        skipped=report.get("skipped") or [],
        groups=groups[:MAX_GROUPS],
        max_members=MAX_MEMBERS,
        hit_groups=hit_groups,
        same_as_hit=same_as_hit,
        thumbs=thumbs,
        it_id=id,
        clear=clear_thumbnails,
        types=_bars(types, "#4a78b0"),
        per_set=_bars(per_set, "#b0494a"),
        flags=FLAGS,
    )
