"""The on-disk PDQ index follows the hash sets: incremental, and always equal to a fresh build."""

from __future__ import annotations

import numpy as np

from vigil.hashsets import Entry
from vigil.index import FlatPdqIndex
from vigil.store.hashsets import HashsetRepository
from vigil.store.setindex import SetIndexStore, index_folder


def pdq_entries(seed, n=300):
    rng = np.random.default_rng(seed)
    return [Entry("pdq", rng.integers(0, 256, 32, dtype=np.uint8).tobytes()) for _ in range(n)]


def results(index, queries):
    return [sorted((h.id, h.distance) for h in hits) for hits in index.search(queries, 40)]


def test_index_follows_imports_replacements_and_disabling(db):
    from sqlalchemy import update

    from vigil.store.models import Hashset

    repo = HashsetRepository(db)
    store = SetIndexStore(db)
    repo.import_entries("a", pdq_entries(1), fmt="text")
    repo.import_entries("b", pdq_entries(2), fmt="text")
    folder = index_folder(db)
    assert folder.name.endswith(".index") and (folder / "manifest.json").exists()
    segments_before = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert len(segments_before) == 2
    queries = [e.value for e in pdq_entries(1)[:20] + pdq_entries(2)[:20] + pdq_entries(3)[:5]]

    def fresh():
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "select e.id, e.value from hash_entries e join hashsets s on s.id = e.hashset_id "
                "where s.enabled and not s.archived and e.signal = 'pdq'"
            ).all()
        return FlatPdqIndex([bytes(r[1]) for r in rows], [r[0] for r in rows])

    assert results(store.open_pdq(), queries) == results(fresh(), queries)
    # re-import b: only b's segment is rebuilt
    repo.import_entries("b", pdq_entries(4), fmt="text")
    after = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert segments_before[0] in after and len(after) == 2
    assert results(store.open_pdq(), queries) == results(fresh(), queries)
    # disable a: its hashes stop matching at once
    with db.engine.begin() as conn:
        conn.execute(update(Hashset).where(Hashset.name == "a").values(enabled=False))
    assert store.sync() == {"added": 0, "removed": 1}
    assert results(store.open_pdq(), queries) == results(fresh(), queries)
    assert store.sync() == {"added": 0, "removed": 0}
