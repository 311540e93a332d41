from __future__ import annotations

from vigil.errors import VigilError
from vigil.hashsets import read_entries


def assert_reads_or_fails_cleanly(tmp_path_factory, data: bytes, name: str, fmt: str) -> None:
    """Fuzz oracle: a reader either yields well-formed entries or raises a VigilError naming the file."""
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(data)
    try:
        for entry in read_entries(path, fmt):
            assert len(entry.value) in (16, 20, 32)
    except VigilError as exc:
        assert str(exc).startswith(str(path))
