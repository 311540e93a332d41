"""Scan runs: the case a scan is building, item by item, so that a killed scan resumes.

A run writes into a case of its own that has no name until the run finishes (`finish` gives it the
name, replacing an older case of that name, in one transaction): an interrupted scan never shows as
a case, and the case it replaces stays whole until then. The scanning process is the only writer; a
finished task's items are stored in one transaction with the task's first item marked (`task`), so
after a `kill -9` a task is wholly recorded or not at all, and `--resume` skips the recorded ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from vigil.errors import VigilError
from vigil.store.caseitems import keyset
from vigil.store.db import Database, utcnow
from vigil.store.models import Case, CaseItem, ScanRun


@dataclass(frozen=True)
class Run:
    id: int
    case_id: int  # the case being built (named only once the run finishes)
    resumed: bool  # an earlier run of the same evidence carried on: some tasks may be done


class ScanRunRepository:
    def __init__(self, db: Database):
        self.db = db

    def start(self, case: str, source: str, resume: bool, threshold: int) -> Run:
        """The run of `case`: the earlier one of the same evidence when `resume`, else a new one (an
        unfinished earlier run is discarded with what it had written)."""
        with self.db.engine.begin() as conn:
            run = conn.execute(
                select(ScanRun.id, ScanRun.source, ScanRun.case_id, ScanRun.finished_at).where(
                    ScanRun.case_name == case
                )
            ).first()
            if run is not None and resume and run.case_id is not None:
                if run.source != source:
                    raise VigilError(
                        f"--resume: case {case!r} was scanning {run.source}, not {source}; "
                        "scan without --resume to start over"
                    )
                return Run(run.id, run.case_id, True)
            if run is not None:
                conn.execute(delete(ScanRun).where(ScanRun.id == run.id))
                if run.finished_at is None and run.case_id is not None:  # nameless: its own work
                    conn.execute(delete(Case).where(Case.id == run.case_id, Case.name.is_(None)))
            now = utcnow()
            case_id = conn.execute(
                insert(Case).values(
                    name=None, source=source, threshold=threshold, scanned_at=now, summary="{}"
                )
            ).inserted_primary_key[0]
            run_id = conn.execute(
                insert(ScanRun).values(case_name=case, source=source, started_at=now, case_id=case_id)
            ).inserted_primary_key[0]
            return Run(run_id, case_id, False)

    def source_of(self, case: str) -> str | None:
        """The evidence source of the case's recorded run (finished or not), or None."""
        with self.db.engine.connect() as conn:
            return conn.execute(select(ScanRun.source).where(ScanRun.case_name == case)).scalar()

    def started_at(self, run_id: int):
        """When the run began (a resumed run keeps the time of its first start), naive UTC."""
        with self.db.engine.connect() as conn:
            return conn.execute(select(ScanRun.started_at).where(ScanRun.id == run_id)).scalar_one()

    def done_keys(self, case_id: int) -> Iterator[list[str]]:
        """The keys of the tasks recorded in the case, in batches (a task's key is its first item's
        path)."""
        for rows in keyset(self.db, case_id, (CaseItem.path,), CaseItem.task.is_(True)):
            yield [r.path for r in rows]

    def recorded_of_type(self, case_id: int, type_: str) -> list:
        """(path, size, flags) of the recorded tasks' first items of a type (a resumed scan's disk
        images: few)."""
        with self.db.engine.connect() as conn:
            query = select(CaseItem.path, CaseItem.size, CaseItem.flags).where(
                CaseItem.case_id == case_id, CaseItem.task.is_(True), CaseItem.type == type_
            )
            return conn.execute(query).all()

    def flag(self, case_id: int, path: str, name: str) -> None:
        """Add a flag to the recorded item at `path`."""
        with self.db.engine.begin() as conn:
            where = (CaseItem.case_id == case_id) & (CaseItem.path == path)
            for item_id, flags in conn.execute(select(CaseItem.id, CaseItem.flags).where(where)).all():
                names = json.loads(flags or "[]")
                if name not in names:
                    conn.execute(
                        update(CaseItem)
                        .where(CaseItem.id == item_id)
                        .values(flags=json.dumps([*names, name]))
                    )

    def record(
        self, case_id: int, columns: tuple[str, ...], done: list[tuple[str, list[tuple]]], plain: int = 0
    ) -> None:
        """Store finished tasks' items, all in one transaction. A row has the values of `columns`,
        or only of the first `plain` of them (the others take their empty values: NULL, and `[]`
        for matches), which binds a third of the values: most files of a disk are plain."""
        full, short = [], []
        for _, items in done:
            for i, item in enumerate(items):
                (short if len(item) == plain else full).append((case_id, i == 0 or None, *item))
        if not (full or short):
            return
        with self.db.engine.begin() as conn:  # the driver's executemany: no per-row SQLAlchemy work
            if full:
                conn.exec_driver_sql(_insert_sql(conn, ("case_id", "task", *columns)), full)
            if short:
                sql = _insert_sql(conn, ("case_id", "task", *columns[:plain]), {"matches": "'[]'"})
                conn.exec_driver_sql(sql, short)

    def finish(
        self, run_id: int, case_id: int, name: str, summary: dict, provenance: dict, skipped: list[dict]
    ) -> None:
        """The built case takes `name` (an older case of that name goes, with its items), with what it
        found and what it was searched with, in one transaction."""
        with self.db.engine.begin() as conn:
            conn.execute(delete(Case).where(Case.name == name, Case.id != case_id))
            conn.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(
                    name=name,
                    scanned_at=utcnow(),
                    summary=json.dumps(summary),
                    provenance=json.dumps(provenance),
                    skipped=json.dumps(skipped),
                )
            )
            conn.execute(update(ScanRun).where(ScanRun.id == run_id).values(finished_at=utcnow()))


def _insert_sql(conn, columns: tuple[str, ...], constants: dict[str, str] | None = None) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    constants = constants or {}
    names, values = [*columns, *constants], [mark] * len(columns) + list(constants.values())
    return f"INSERT INTO case_items ({', '.join(names)}) VALUES ({', '.join(values)})"
