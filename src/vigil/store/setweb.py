"""Hash-set operations the web pages need beyond setadmin and hashsets: enabling and disabling a set
with its audit record in the same transaction, recording who imported a set from an upload, the
versions of a set, and the signals of many sets without counting their entries on every page."""

from __future__ import annotations

from sqlalchemy import select, update

from vigil.errors import VigilError
from vigil.store import audit
from vigil.store.db import Database
from vigil.store.hashsets import HashsetInfo, HashsetRepository
from vigil.store.models import Hashset
from vigil.store.setadmin import SEPARATOR, set_id
from vigil.store.setindex import SetIndexStore

COUNT_SIGNALS_UP_TO = 1_000_000  # a set not in the index (disabled) has its signals counted up to this size


def _object(name: str) -> str:
    return f"hashset:{name}"[:100]


def set_enabled(db: Database, actor: str, org_id: int | None, name: str, enabled: bool) -> bool:
    """Enable or disable the current set `name` (SetAdmin.set_enabled's rules) and audit it in the
    same transaction; returns whether the state changed. The set indexes follow."""
    with db.engine.begin() as conn:
        hid = set_id(conn, name)  # NotFoundError for an unknown name
        row = conn.execute(select(Hashset.archived, Hashset.enabled).where(Hashset.id == hid)).one()
        if row.archived and enabled:
            raise VigilError(f"{name!r} is an archived version; import it again to make it current")
        if bool(row.enabled) == enabled:
            return False
        conn.execute(update(Hashset).where(Hashset.id == hid).values(enabled=enabled))
        action = "hashset.enable" if enabled else "hashset.disable"
        audit.append(conn, actor, org_id, action, _object(name), {"name": name})
    SetIndexStore(db).sync()
    return True


def record_upload(db: Database, actor: str, org_id: int | None, info: HashsetInfo, filename: str) -> None:
    """After an import from an uploaded file: the set's file path names the upload (not the server's
    temporary file, which is gone), and the import is audited."""
    detail = {
        "name": info.name,
        "version": info.version,
        "entries": info.entries,
        "format": info.format,
        "known": info.known,
        "file_sha256": info.file_sha256,
        "filename": filename[:200],
    }
    if info.changes is not None:
        detail["changes"] = info.changes
    with db.engine.begin() as conn:
        hid = set_id(conn, info.name)
        conn.execute(update(Hashset).where(Hashset.id == hid).values(file_path=f"upload:{filename[:200]}"))
        audit.append(conn, actor, org_id, "hashset.import", _object(info.name), detail)


def base_name(name: str) -> str:
    """`name@3` (an archived version) as `name`."""
    head, sep, tail = name.rpartition(SEPARATOR)
    return head if sep and tail.isdigit() else name


def versions(db: Database, name: str) -> list[HashsetInfo]:
    """Every version of the set `name` (or of the set `name` is a version of), newest first."""
    base = base_name(name)
    found = [
        i
        for i in HashsetRepository(db).list(archived=True)
        if i.name == base or (i.name.startswith(base + SEPARATOR) and i.name[len(base) + 1 :].isdigit())
    ]
    return sorted(found, key=lambda i: i.version, reverse=True)


def signals(db: Database, infos: list[HashsetInfo]) -> dict[str, dict[str, int] | None]:
    """Entries per signal of each set: from the set index's manifest for indexed sets (no count in
    the database), counted for others up to COUNT_SIGNALS_UP_TO entries, else None (not counted)."""
    indexed = {
        entry.get("name"): {k: v for k, v in entry.get("counts", {}).items() if v}
        for entry in SetIndexStore(db).manifest().get("sets", {}).values()
    }
    repo = HashsetRepository(db)
    out: dict[str, dict[str, int] | None] = {}
    for i in infos:
        if i.name in indexed and i.enabled and not i.archived:
            out[i.name] = indexed[i.name]
        elif i.entries <= COUNT_SIGNALS_UP_TO:
            out[i.name] = repo.signals_of(i.name)
        else:
            out[i.name] = None
    return out
