"""Meta's vPDQ text form: one file per video, one `frame_number,quality,pdq_hex,timestamp` line per
frame (the form `vpdq` and ThreatExchange's tools write). A folder of such `.txt` files is a list of
videos; each becomes one `vpdq` entry named by its file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vigil.errors import InputFormatError, VigilError
from vigil.hashsets.entry import Entry
from vigil.signals.vpdq import VpdqFormatError, VpdqSignal, pack, parse_line


def _video(path: Path, category: str | None) -> Entry:
    frames = []
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                try:
                    frames.append(parse_line(line))
                except VpdqFormatError as exc:
                    raise InputFormatError(str(path), number, str(exc)) from None
    except UnicodeDecodeError:
        raise InputFormatError(str(path), None, "not a text file (invalid UTF-8)") from None
    except OSError as exc:
        raise VigilError(f"{path}: cannot read: {exc.strerror}") from None
    if not frames:
        raise InputFormatError(
            str(path), None, "no frames: expected frame_number,quality,pdq_hex,timestamp lines"
        )
    return Entry(VpdqSignal.name, pack(frames), category, ref=path.name)


def read_vpdq(path: Path, category: str | None = None) -> Iterator[Entry]:
    """The videos in a vPDQ file, or in every `*.txt` file under a folder (sorted)."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.txt") if p.is_file())
        if not files:
            raise VigilError(f"{path}: no .txt vPDQ files in the folder")
    else:
        files = [path]
    for file in files:
        yield _video(file, category)
