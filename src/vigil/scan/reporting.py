"""Case outputs besides the JSON: CSV (one row per item) and a self-contained HTML report.

The HTML report is one file an examiner can open anywhere, with no network: summary, charts (inline
SVG) of file types and of hits per hash set, the hits and hidden content with thumbnails, duplicate
groups counted. Thumbnails are made from the evidence when the report is written, embedded as small
JPEGs and **blurred by default**; a click reveals one (staff wellbeing: nobody sees material they did
not choose to see). Nothing of them is stored in the case database.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import TextIO

from vigil.scan.hashing import FLAGS
from vigil.scan.locate import read_logical

CSV_COLUMNS = (
    "path", "size", "type", "md5", "sha1", "sha256", "pdq", "pdq_quality", "duplicate_group",
    "known", "disputed", "flags", "error", "match_hashset", "match_signal", "match_distance",
    "match_category", "match_ranges", "matches",
)  # fmt: skip
THUMBNAIL_PX = 128
MAX_THUMBNAILS = 500


def write_csv(report: dict, out: TextIO) -> None:
    """One row per item; the closest match in its own columns, all matches as JSON in `matches`."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for it in report["items"]:
        best = it["matches"][0] if it["matches"] else {}
        writer.writerow(
            [
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
                json.dumps(it["matches"]) if it["matches"] else "",
            ]
        )


def _thumbnail(evidence: Path, item: dict) -> str | None:
    """A small JPEG data URI of an image item (for videos, its first frame), or None."""
    kind = item["type"] or ""
    if not (kind.startswith("image/") or kind.startswith("video/")) or item["error"]:
        return None
    data = read_logical(evidence, item["path"])
    if data is None:
        return None
    try:
        from PIL import Image

        if kind.startswith("video/"):
            import av

            with av.open(io.BytesIO(data)) as container:
                image = next(container.decode(video=0)).to_image()
        else:
            image = Image.open(io.BytesIO(data))
            image.draft("RGB", (THUMBNAIL_PX * 2, THUMBNAIL_PX * 2))
        image = image.convert("RGB")
        image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=70)
    except Exception:  # noqa: BLE001 - a thumbnail that cannot be made is left out, not fatal
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


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


def html_report(report: dict, evidence: Path) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    items = report["items"]
    hits = [it for it in items if it["matches"]]
    hidden = [it for it in items if set(it["flags"]) - {"altered-copy"} and not it["matches"]]
    shown = (hits + hidden)[:MAX_THUMBNAILS]
    thumbs = {it["path"]: _thumbnail(evidence, it) for it in shown}
    types = Counter((it["type"] or "unknown") for it in items).most_common(12)
    per_set = Counter(m["hashset"] for it in hits for m in it["matches"]).most_common(12)
    groups = Counter(it["duplicate_group"] for it in items if it["duplicate_group"] is not None)
    env = Environment(loader=PackageLoader("vigil.scan", "templates"), autoescape=select_autoescape())
    return env.get_template("report.html").render(
        case=report["case"],
        source=report["source"],
        summary=report["summary"],
        hits=hits,
        hidden=hidden,
        errors=[it for it in items if it["error"]],
        thumbs=thumbs,
        types=_bars(types, "#4a78b0"),
        per_set=_bars(per_set, "#b0494a"),
        group_sizes=sorted(groups.values(), reverse=True)[:20],
        flags=FLAGS,
    )
