"""Near-duplicate groups against brute force: the same components as comparing every pair."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.index import clusters
from vigil.index.clusters import _Joiner, near_components, video_components
from vigil.signals.vpdq import FRAME_DISTANCE, QUERY_MATCH_PERCENT, VpdqFrame, match_percent

THRESHOLDS = [0, 1, 15, 16, 17, 31, 32, 47, 48, 63]


def flip(code: np.ndarray, bits) -> np.ndarray:
    out = code.copy()
    for b in set(bits):
        out[b // 8] ^= np.uint8(1 << (b % 8))
    return out


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distance of every row of a to every row of b."""
    return np.unpackbits(a[:, None, :] ^ b[None, :, :], axis=-1).sum(axis=-1)


def components(n: int, edges) -> np.ndarray:
    label = list(range(n))

    def find(i):
        while label[i] != i:
            i = label[i]
        return i

    for a, b in edges:
        ra, rb = find(a), find(b)
        label[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(n)], dtype=np.int64)


def brute(codes: np.ndarray, variants: np.ndarray | None, threshold: int) -> np.ndarray:
    n = len(codes)
    if variants is None:
        variants = codes[:, None, :]
    near = np.zeros((n, n), bool)
    for v in range(variants.shape[1]):
        near |= distances(variants[:, v], codes) <= threshold
    return components(n, zip(*np.nonzero(near), strict=True))


def reverse_bits(codes: np.ndarray) -> np.ndarray:
    """A stand-in for a rotation: a fixed permutation of the 256 bits."""
    return np.packbits(np.unpackbits(codes, axis=-1)[..., ::-1], axis=-1)


@st.composite
def planted(draw):
    """Random hashes, near copies of some at the threshold, one inside and one outside it, and
    chains (a copy of a copy), with variants: none, a bit permutation, or random extra hashes."""
    threshold = draw(st.sampled_from(THRESHOLDS))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (draw(st.integers(1, 12)), 32), dtype=np.uint8)
    rows = list(base)
    for _ in range(draw(st.integers(0, 16))):
        source = rows[draw(st.integers(0, len(rows) - 1))]
        k = draw(st.sampled_from([0, max(0, threshold - 1), threshold, threshold + 1, threshold + 5]))
        rows.append(flip(source, rng.choice(256, k, replace=False)))
    codes = np.unique(np.array(rows), axis=0)  # distinct, in a shuffled order
    codes = codes[rng.permutation(len(codes))]
    kind = draw(st.sampled_from(["none", "permutation", "random"]))
    if kind == "none":
        return codes, None, threshold
    extra = reverse_bits(codes) if kind == "permutation" else rng.integers(0, 256, codes.shape, np.uint8)
    variants = np.stack([codes, extra], axis=1)
    if kind == "random" and len(codes) > 1:  # plant a variant near another hash
        i, j = rng.choice(len(codes), 2, replace=False)
        variants[i, 1] = flip(codes[j], rng.choice(256, min(threshold, 255), replace=False))
    return codes, variants, threshold


@settings(max_examples=150, deadline=None)
@given(planted(), st.sampled_from([1, 2]), st.sampled_from([2, 5, 1 << 20]), st.booleans())
def test_near_components_equal_brute_force(case, threads, batch, simd):
    codes, variants, threshold = case
    _Joiner.simd = simd
    try:
        labels = near_components(codes, variants, threshold, batch=batch, threads=threads)
    finally:
        _Joiner.simd = True
    assert labels.tolist() == brute(codes, variants, threshold).tolist()


@pytest.mark.parametrize("simd", [True, False])
@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_pairs_are_exact_and_reported_once(threshold, simd, monkeypatch):
    """The C join: every (query, hash) pair within the threshold, each once, none of one owner."""
    monkeypatch.setattr(_Joiner, "simd", simd)
    rng = np.random.default_rng(threshold)
    codes = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    near = [
        flip(codes[i], rng.choice(256, rng.integers(0, threshold + 3), replace=False)) for i in range(200)
    ]
    queries = np.concatenate([np.array(near), codes[:50], rng.integers(0, 256, (50, 32), np.uint8)])
    owner = rng.integers(0, 40, len(codes)).astype(np.uint32)
    query_owner = rng.integers(0, 40, len(queries)).astype(np.uint32)
    with _Joiner(codes, owner, threshold, threads=2) as joiner:
        found = [joiner.pairs(queries, query_owner, t) for t in range(16)]
    q = np.concatenate([f[0] for f in found])
    p = np.concatenate([f[1] for f in found])
    got = sorted(zip(q.tolist(), p.tolist(), strict=True))
    close = (distances(queries, codes) <= threshold) & (query_owner[:, None] != owner[None, :])
    assert got == sorted(zip(*(x.tolist() for x in np.nonzero(close)), strict=True))


def test_edges():
    empty = np.zeros((0, 32), np.uint8)
    assert near_components(empty, None, 31).tolist() == []
    assert near_components(empty, np.zeros((0, 8, 32), np.uint8), 31).tolist() == []
    one = np.arange(32, dtype=np.uint8)[None]
    assert near_components(one, None, 31).tolist() == [0]
    assert near_components(one, np.repeat(one[:, None], 8, axis=1), 31).tolist() == [0]
    # threshold 0: only an exact variant joins
    a = np.zeros(32, np.uint8)
    b = np.full(32, 255, np.uint8)
    c = flip(b, [3])
    codes = np.stack([a, b, c])
    variants = np.stack([np.stack([a, c]), np.stack([b, b]), np.stack([c, c])])
    assert near_components(codes, variants, 0).tolist() == [0, 1, 0]
    assert near_components(codes, None, 0).tolist() == [0, 1, 2]
    assert near_components(codes, None, 1).tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="threshold"):
        near_components(codes, None, 64)
    with pytest.raises(ValueError, match="variants"):
        near_components(codes, variants[:2], 31)
    with pytest.raises(ValueError, match="PDQ"):
        near_components(codes[:, :16], None, 31)


def test_progress_reaches_the_total():
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 256, (50, 32), dtype=np.uint8)
    seen = []
    near_components(codes, None, 31, progress=lambda done, total: seen.append((done, total)), batch=16)
    assert seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_deep_chains_join():
    """A chain of copies of copies (each 20 bits from the last) is one group, whatever the order."""
    rng = np.random.default_rng(3)
    chain = [rng.integers(0, 256, 32, dtype=np.uint8)]
    for _ in range(199):
        chain.append(flip(chain[-1], rng.choice(256, 20, replace=False)))
    codes = np.array(chain)[rng.permutation(200)]
    labels = near_components(codes, None, 31, batch=7)
    assert labels.tolist() == brute(codes, None, 31).tolist()
    assert len(set(labels.tolist())) == 1


# --- videos ---


def frames_of(codes: np.ndarray) -> list[VpdqFrame]:
    return [VpdqFrame(i, 100, c.tobytes(), float(i)) for i, c in enumerate(codes)]


def brute_videos(videos: list[np.ndarray], min_percent: float = QUERY_MATCH_PERCENT) -> np.ndarray:
    """The pair rule through the reference matcher: joined when either video matches the other."""
    edges = []
    for a in range(len(videos)):
        for b in range(a + 1, len(videos)):
            forward, backward = match_percent(frames_of(videos[a]), frames_of(videos[b]))
            if max(forward, backward) >= min_percent:
                edges.append((a, b))
    return components(len(videos), edges)


def test_video_groups():
    rng = np.random.default_rng(5)
    film = rng.integers(0, 256, (20, 32), dtype=np.uint8)
    copy = film.copy()  # re-encoded: a few frames a few bits off
    for i in (2, 7, 11):
        copy[i] = flip(film[i], rng.choice(256, 10, replace=False))
    clip = film[5:12]  # cut from the film: all its frames in the film, 35% of the film's in it
    patched = film.copy()  # 30% of the frames replaced: 70% either way, below the 80% rule
    patched[10:16] = rng.integers(0, 256, (6, 32), dtype=np.uint8)  # and 5 of the clip's 7 left
    other = rng.integers(0, 256, (15, 32), dtype=np.uint8)
    stills = np.repeat(other[:1], 10, axis=0)  # one frame repeated: counted once, as `usable` does
    empty = np.zeros((0, 32), np.uint8)
    videos = [film, other, copy, clip, patched, stills, empty]
    labels = video_components(videos)
    assert labels.tolist() == [0, 1, 0, 0, 4, 1, 6]
    assert labels.tolist() == brute_videos(videos).tolist()
    assert video_components(videos, batch=1).tolist() == labels.tolist()


@st.composite
def video_sets(draw):
    """Videos drawn from a small pool of frames (so they share some), frames bit-flipped a little or
    a lot, repeats allowed."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pool = rng.integers(0, 256, (draw(st.integers(1, 12)), 32), dtype=np.uint8)
    videos = []
    for _ in range(draw(st.integers(0, 8))):
        picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=0, max_size=10))
        bits = [draw(st.sampled_from([0, 5, 31, 32, 60])) for _ in picks]
        frames = [flip(pool[i], rng.choice(256, k, replace=False)) for i, k in zip(picks, bits, strict=True)]
        videos.append(np.array(frames, np.uint8).reshape(-1, 32))
    return videos


@settings(max_examples=100, deadline=None)
@given(video_sets(), st.sampled_from([1, 4, 1 << 20]), st.sampled_from([50.0, QUERY_MATCH_PERCENT, 100.0]))
def test_video_components_equal_the_matching_rule(videos, batch, min_percent):
    labels = video_components(videos, FRAME_DISTANCE, min_percent, batch=batch, threads=2)
    assert labels.tolist() == brute_videos(videos, min_percent).tolist()


def test_union_find_merges_conflicting_hooks():
    parent = np.arange(6, dtype=np.int64)
    clusters._union(parent, np.array([5, 5, 4, 1]), np.array([3, 2, 0, 3]))
    assert clusters._flatten(parent).tolist() == [0, 1, 1, 1, 0, 1]
