"""Lookup structures behind one interface: exact (hash -> entry ids) and near (PDQ Hamming search).

`NearIndex` and `ExactIndex` are the interfaces the scan and the CLI use. The implementations here are
the simple, always-correct fallbacks; faster ones replace them without touching callers.
"""

from vigil.index.base import ExactIndex, NearIndex, NearMatch
from vigil.index.exact import DictExactIndex
from vigil.index.flat import FlatPdqIndex

__all__ = ["ExactIndex", "NearIndex", "NearMatch", "DictExactIndex", "FlatPdqIndex"]
