"""Writers for export: every file they write imports back to the same entries (round-trip tested).

- text: CSV with the header `signal,hash,category,series,comment,extra`, one entry per line.
- vics: VICS v2 `#Media` JSON. Entries that came from one media (same `ref`) become one Media again:
  each signal as the registry says (`vics_key`: MD5, SHA1, SHA256 as keys; `vics_names`: PDQ as an
  `AlternativeHashes` entry). Categories VICS has a code for
  are written as `Category`; others are left out (the importer reads them as uncategorised).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from itertools import groupby
from pathlib import Path
from typing import TextIO

from vigil.classify import vics_code
from vigil.errors import VigilError
from vigil.hashsets.entry import Entry
from vigil.signals import get_signal

VICS_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/{variant}/$metadata#Media"
TEXT_COLUMNS = ("signal", "hash", "category", "series", "comment", "extra")


# formats whose entries' `ref` is a local file path or name (the unit's own files), not a publisher's id
LOCAL_REF_FORMATS = frozenset({"files", "vpdq"})


def anonymise_refs(entries: Iterable[Entry]) -> Iterator[Entry]:
    """The entries with each distinct `ref` replaced by `media-N` (N by first appearance): entries of
    one file stay together, and no path of the unit's own disk leaves in a file meant to be shared."""
    numbers: dict[str, str] = {}
    for e in entries:
        if e.ref is not None:
            e = e._replace(ref=numbers.setdefault(e.ref, f"media-{len(numbers) + 1}"))
        yield e


def write_vpdq_folder(entries: Iterable[Entry], folder: Path) -> int:
    """Each vPDQ entry as Meta's vPDQ text file (named by its ref, else by its position)."""
    from vigil.signals.vpdq import to_text, unpack

    try:
        folder.mkdir(parents=True, exist_ok=True)
        count = 0
        for e in entries:
            if get_signal(e.signal).index != "vpdq":
                continue
            count += 1
            stem = Path(e.ref or f"video-{count}").name.removesuffix(".txt")
            (folder / f"{count:06}-{stem}.txt").write_text(to_text(unpack(e.value)))
    except OSError as exc:
        raise VigilError(f"{folder}: cannot write: {exc.strerror}") from None
    return count


def write_text(entries: Iterable[Entry], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TEXT_COLUMNS)
    count = 0
    for e in entries:
        writer.writerow(
            [e.signal, e.value.hex(), e.category or "", e.series or "", e.comment or "", e.extra or ""]
        )
        count += 1
    return count


def _media(group: list[Entry], scheme: str) -> Iterator[dict]:
    """One Media per group, or more when a group holds two values of one signal."""
    media: dict = {}
    for e in group:
        signal = get_signal(e.signal)
        key = signal.vics_key
        if not key and not signal.vics_names:
            continue  # VICS has no name for it (vPDQ: exported as Meta's vPDQ files)
        alts = media.get("AlternativeHashes") or ()
        if (key and key in media) or (not key and any(a["HashName"] in signal.vics_names for a in alts)):
            yield media
            media = {}
        if not media:
            code = vics_code(e.category, scheme)
            media = {"MediaID": e.ref} if e.ref else {}
            if code is not None:
                media["Category"] = code
            if e.series:
                media["Series"] = e.series
            if e.comment:
                media["Comments"] = e.comment
            if e.extra:
                media.update(json.loads(e.extra))  # VICS Segments of a video
        text = e.value.hex().upper() if signal.vics_upper else e.value.hex()
        if key:
            media[key] = text
        else:
            media.setdefault("AlternativeHashes", []).append(
                {"HashName": signal.vics_names[0], "HashValue": text}
            )
    if media:
        yield media


def write_vics(entries: Iterable[Entry], out: TextIO, scheme: str = "us") -> int:
    variant = "US" if scheme == "us" else "Default"
    out.write('{"@odata.context": ' + json.dumps(VICS_CONTEXT.format(variant=variant)) + ', "value": [')
    count = 0
    for _, group in groupby(entries, key=lambda e: (e.ref, e.category, e.series, e.comment, e.extra)):
        for media in _media(list(group), scheme):
            out.write(("," if count else "") + "\n" + json.dumps(media))
            count += 1
    out.write("\n]}\n")
    return count


CASES_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"


def case_media(items: Iterable[dict], scheme: str = "us") -> list[dict]:
    """VICS Media for a case's items (scan JSON items): one per MD5, every copy in `MediaFiles`,
    the category from the closest hash-set match. Items on a known-good set and items that could
    not be hashed are left out. An item's `file_path`/`file_name` (where it is, its real name) are
    its MediaFile's `FilePath`/`FileName` when given, and its `location` list `VigilLocation`."""
    media: dict[str, dict] = {}
    for item in items:
        if item.get("known") or not item.get("md5"):
            continue
        m = media.get(item["md5"])
        if m is None:
            m = media[item["md5"]] = {
                "MD5": item["md5"].upper(),
                "SHA1": (item.get("sha1") or "").upper(),
                "MediaSize": item.get("size"),
                "MimeType": item.get("type"),
            }
            alt = (
                [{"MD5": m["MD5"], "HashName": "SHA256", "HashValue": item["sha256"]}]
                if item.get("sha256")
                else []
            )
            if item.get("pdq"):
                alt.append({"MD5": m["MD5"], "HashName": "PDQ", "HashValue": item["pdq"]})
            m["AlternativeHashes"] = alt
            m["MediaFiles"] = []
        if "file_name" in item:  # the caller split the location (vigil.scan.locations.folder_and_name)
            folder, name = item["file_path"], item["file_name"]
        else:
            folder, _, name = item["path"].rpartition("/")
        entry = {"FileName": name, "FilePath": folder, "MD5": m["MD5"]}
        if item.get("location") is not None:
            entry["VigilLocation"] = item["location"]  # the exact components (README, "location")
        m["MediaFiles"].append(entry)
        for match in item.get("matches") or []:
            code = vics_code(match.get("category"), scheme)
            if code is not None and "Category" not in m:
                m["Category"] = code
    return list(media.values())


def write_vics_case(case: str, source: str, items: Iterable[dict], out: TextIO) -> int:
    media = case_media(items)
    doc = {
        "@odata.context": CASES_CONTEXT,
        "value": [
            {
                "CaseID": case,
                "CaseNumber": case,
                "SourceApplicationName": "Vigil",
                "EvidenceSource": source,
                "Media": media,
            }
        ],
    }
    json.dump(doc, out, indent=1)
    out.write("\n")
    return len(media)
