"""vPDQ: Vigil's hashing equals Meta's vpdq, the text form round-trips, the frame index equals the
brute-force rule, and a scan finds trimmed and re-encoded copies of a known video with time ranges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.scan.conftest import cli
from tests.videos import write_video
from vigil.index.vpdq import VpdqIndex
from vigil.media.video import VideoError, vpdq_hash
from vigil.signals.vpdq import VpdqFrame, format_line, match_percent, pack, parse_line, ranges, unpack

CORPUS_VIDEOS = sorted((Path.home() / ".cache" / "vigil-corpus" / "videos").glob("*"))


@pytest.fixture(scope="module")
def known_video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("v") / "known.mp4", range(8))


def test_same_frames_and_hashes_as_metas_vpdq(known_video, tmp_path):
    vpdq = pytest.importorskip("vpdq", reason="vpdq needs FFmpeg's dev libraries to build (.ci/run has them)")
    odd_rate = write_video(tmp_path / "odd.mp4", range(3), fps=15, codec="mpeg4")
    for path in [known_video, odd_rate, *CORPUS_VIDEOS]:  # corpus videos: 23.8 and 29.97 fps, .mov
        ref = vpdq.computeHash(str(path))
        ours = vpdq_hash(str(path)).frames
        assert [(f.frame_number, f.quality, f.hex) for f in ref] == [
            (f.number, f.quality, f.pdq.hex()) for f in ours
        ], path
        assert all(abs(a.timestamp - b.timestamp) < 1e-6 for a, b in zip(ref, ours, strict=True))


def test_bytes_and_path_give_the_same_hash(known_video):
    assert vpdq_hash(known_video.read_bytes()) == vpdq_hash(str(known_video))
    assert vpdq_hash(str(known_video)).duration == pytest.approx(8.0)


def test_not_a_video_is_a_video_error():
    with pytest.raises(VideoError):
        vpdq_hash(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)


frames = st.builds(
    VpdqFrame,
    st.integers(0, 10**6),
    st.integers(0, 100),
    st.binary(min_size=32, max_size=32),
    st.integers(0, 10**7).map(lambda ms: ms / 1000),
)


@given(st.lists(frames, max_size=20))
def test_text_and_packed_forms_round_trip(fs):
    assert [parse_line(format_line(f)) for f in fs] == fs
    assert unpack(pack(fs)) == fs


def _near(base: bytes, flips: int, salt: int) -> bytes:
    value = int.from_bytes(base, "big")
    for i in range(flips):
        value ^= 1 << ((salt * 37 + i * 53) % 256)
    return value.to_bytes(32, "big")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 40)), min_size=1, max_size=12),
    st.lists(st.integers(0, 100), min_size=12, max_size=12),
)
def test_index_matches_the_brute_force_rule(bases, picks, qualities):
    """Known videos made of random frames; queries of near copies (0-40 bits off) of some of them."""
    videos = [[VpdqFrame(i, 100, b, float(i)) for i, b in enumerate(bases[k::2])] for k in range(2)]
    videos = [v for v in videos if v]
    query = [
        VpdqFrame(i, qualities[i], _near(bases[b % len(bases)], flips, i), float(i))
        for i, (b, flips) in enumerate(picks)
    ]
    index = VpdqIndex.build(enumerate(videos))
    got = {m.entry_id: (m.query_percent, m.target_percent) for m in index.match(query, min_percent=0)}
    for entry_id, video in enumerate(videos):
        q, t = match_percent(query, video)
        if q == 0:
            assert entry_id not in got
        else:
            assert got[entry_id] == (round(q, 1), round(t, 1))


def test_ranges_join_consecutive_frames():
    assert ranges([0, 1, 2, 5, 6], 1.0, 10.0) == [[0, 3], [5, 7]]
    assert ranges([9], 1.0, 9.5) == [[9, 9.5]]
    assert ranges([], 1.0, 3.0) == []


def test_scan_finds_trimmed_and_reencoded_copies(tmp_path, known_video):
    db = str(tmp_path / "v.db")
    assert (
        cli("hashset", "add-files", str(known_video), "--name", "unit", "--category", "csam", "--db", db) == 0
    )
    ev = tmp_path / "ev"
    ev.mkdir()
    write_video(ev / "trimmed.mp4", range(3, 7))  # seconds 3-6 of the known video
    write_video(ev / "reencoded.avi", range(8), fps=12, codec="mpeg4", size=(256, 192))
    write_video(ev / "other.mp4", range(20, 26))
    (ev / "exact.mp4").write_bytes(known_video.read_bytes())
    out = tmp_path / "case.json"
    assert cli("scan", str(ev), "--case", "c", "--json", str(out), "--db", db, "--workers", "1") == 0
    items = {it["path"]: it for it in json.loads(out.read_text())["items"]}
    assert items["other.mp4"]["matches"] == []
    trimmed = items["trimmed.mp4"]["matches"]
    assert [(m["hashset"], m["signal"], m["category"]) for m in trimmed] == [("unit", "vpdq", "csam")]
    assert trimmed[0]["ranges"] == [[0.0, 4.0]]  # the whole scanned file: times are in the copy
    assert trimmed[0]["query_match_percent"] == 100.0 and trimmed[0]["target_match_percent"] < 80
    assert items["trimmed.mp4"]["flags"] == ["altered-copy"]
    reencoded = items["reencoded.avi"]["matches"]
    assert [m["signal"] for m in reencoded] == ["vpdq"] and reencoded[0]["ranges"] == [[0.0, 8.0]]
    assert {m["signal"] for m in items["exact.mp4"]["matches"]} == {"md5", "sha1", "sha256", "vpdq"}
    assert items["exact.mp4"]["vpdq_frames"] == 8 and items["exact.mp4"]["duration"] == 8.0


def test_vpdq_text_lists_import(tmp_path, known_video):
    folder = tmp_path / "list"
    folder.mkdir()
    frames = vpdq_hash(str(known_video)).frames
    (folder / "video-1.txt").write_text("".join(format_line(f) + "\n" for f in frames))
    db = str(tmp_path / "v.db")
    assert cli("hashset", "import", str(folder), "--name", "meta", "--db", db) == 0
    bad = tmp_path / "bad.txt"
    bad.write_text(format_line(frames[0]) + "\n1,100,abc,0.5\n")
    assert cli("hashset", "import", str(bad), "--name", "bad", "--format", "vpdq", "--db", db) == 2
    ev = tmp_path / "ev"
    ev.mkdir()
    write_video(ev / "copy.mp4", range(2, 8))
    out = tmp_path / "case.json"
    assert cli("scan", str(ev), "--case", "c", "--json", str(out), "--db", db, "--workers", "1") == 0
    (item,) = json.loads(out.read_text())["items"]
    assert [(m["hashset"], m["signal"]) for m in item["matches"]] == [("meta", "vpdq")]


def test_add_files_set_exports_as_vpdq_text_and_imports_back(tmp_path, known_video):
    from vigil.store import open_database
    from vigil.store.setadmin import SetAdmin

    db = str(tmp_path / "v.db")
    assert cli("hashset", "add-files", str(known_video), "--name", "unit", "--db", db) == 0
    out = tmp_path / "exported"
    assert cli("hashset", "export", "unit", "--format", "vpdq", "--output", str(out), "--db", db) == 0
    (file,) = out.iterdir()
    assert [parse_line(line) for line in file.read_text().splitlines()] == list(
        vpdq_hash(str(known_video)).frames
    )
    assert cli("hashset", "import", str(out), "--name", "back", "--db", db) == 0
    admin = SetAdmin(open_database(db))
    videos = [e.value for e in admin.entries("unit") if e.signal == "vpdq"]
    assert [e.value for e in admin.entries("back")] == videos
    assert cli("hashset", "export", "unit", "--format", "vpdq", "--db", db) == 2  # needs --output
