"""Look-up structures: exact (digest -> category, `ExactSegment`) and near (PDQ Hamming search).

`NearIndex` and `ExactIndex` are the interfaces the scan and the CLI use. `FlatPdqIndex` is the
simple, always-correct brute force (the reference in tests); `MihPdqIndex` is the exact multi-index
search used everywhere else.
"""

from vigil.index.base import ExactIndex, NearIndex, NearMatch, search_dihedral
from vigil.index.exact import ExactBuilder, ExactSegment
from vigil.index.flat import FlatPdqIndex
from vigil.index.mih import MihPdqIndex, Segment

__all__ = [
    "ExactIndex",
    "NearIndex",
    "NearMatch",
    "ExactBuilder",
    "ExactSegment",
    "FlatPdqIndex",
    "MihPdqIndex",
    "Segment",
    "search_dihedral",
]
