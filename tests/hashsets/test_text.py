from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hashsets.conftest import assert_reads_or_fails_cleanly
from vigil.errors import InputFormatError, VigilError
from vigil.hashsets import EntryBlock, read_entries

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def read(tmp_path, text, name="list.txt", **opts):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return list(read_entries(path, "text", **opts))


def test_plain_hashes_by_length_with_comments_and_blanks(tmp_path):
    got = read(tmp_path, f"# a list\n\n{MD5.upper()}\n{SHA1}\r\n  {SHA256}  \n")
    assert [(e.signal, e.value.hex(), e.ref) for e in got] == [
        ("md5", MD5, "3"),
        ("sha1", SHA1, "4"),
        ("sha256", SHA256, "5"),
    ]


def test_csv_with_header_names_columns_and_pdq(tmp_path):
    text = f'pdq,category,series,comment\n{SHA256},CSAM,s-1,"seen, twice"\n'
    (entry,) = read(tmp_path, text)
    assert (entry.signal, entry.category, entry.series, entry.comment) == (
        "pdq",
        "csam",
        "s-1",
        "seen, twice",
    )


def test_extra_columns_without_header_and_tabs(tmp_path):
    got = read(tmp_path, f"{MD5}\tsome file.jpg\t1234\n{MD5};x\n")
    assert [e.signal for e in got] == ["md5", "md5"]


def test_pdq_by_option_or_file_name(tmp_path):
    assert read(tmp_path, SHA256 + "\n", signal="pdq")[0].signal == "pdq"
    assert read(tmp_path, SHA256 + "\n", name="meta-pdq-list.csv")[0].signal == "pdq"
    assert read(tmp_path, SHA256 + "\n")[0].signal == "sha256"


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        (f"{MD5}\nnot-a-hash\n", 2, "expected a hex hash"),
        (f"{MD5}\n{MD5[:-1]}\n", 2, "none of md5"),
        (f"md5\n{SHA1}\n", 2, "md5 must be 32 hex digits"),
        (f"# c\n\n{MD5}zz\n", 3, "expected a hex hash"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path, text, line, what):
    with pytest.raises(InputFormatError) as err:
        read(tmp_path, text)
    assert str(err.value).startswith(f"{tmp_path / 'list.txt'}:{line}: ")
    assert what in str(err.value)


def test_binary_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputFormatError, match="not a text file"):
        read(tmp_path, b"\xff\xfe\x00\x81garbage")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_text_reader_fails_only_with_vigil_errors(tmp_path_factory, data):
    assert_reads_or_fails_cleanly(tmp_path_factory, data, "list.txt", "text")


def expand(items):
    out = []
    for item in items:
        out.extend(item.entries() if isinstance(item, EntryBlock) else [item])
    return out


def outcome(reader, path):
    """The entries a reader gives (without `ref` for bare lines, which blocks do not carry), or
    the error it raises."""
    try:
        return [(e.signal, e.value, e.category, e.series, e.comment) for e in expand(reader(path))]
    except VigilError as exc:
        return str(exc)


line = st.one_of(
    st.integers(0, 2**128 - 1).map(lambda i: f"{i:032x}"),
    st.integers(0, 2**160 - 1).map(lambda i: f"{i:040X}"),
    st.sampled_from(["", "# comment", "  ", "md5", "hash,category", f"{MD5},csam", "not-a-hash", SHA256]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(line, max_size=40), st.sampled_from(["\n", "\r\n"]), st.booleans(), st.integers(40, 400))
def test_block_reader_equals_line_reader(tmp_path_factory, lines, newline, bom, block_bytes):
    from vigil.hashsets import text

    path = tmp_path_factory.mktemp("blocks") / "list.txt"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + newline.join(lines).encode())
    original = text.BLOCK_BYTES
    text.BLOCK_BYTES = block_bytes  # many chunk boundaries, mid-line included
    try:
        assert outcome(text.read_text_blocks, path) == outcome(text.read_text, path)
    finally:
        text.BLOCK_BYTES = original


def test_a_long_list_of_bare_hashes_comes_as_blocks(tmp_path):
    from vigil.hashsets import text

    path = tmp_path / "big.txt"
    path.write_text("".join(f"{i:032x}\n" for i in range(100_000)))
    items = list(text.read_text_blocks(path))
    assert all(isinstance(i, EntryBlock) for i in items) and len(items) <= 5
    assert sum(len(i.values) for i in items) == 16 * 100_000
    assert items[1].first_line == 1 + len(items[0].values) // 16


@pytest.mark.parametrize("block_bytes", range(30, 40))
def test_crlf_split_across_chunks_keeps_line_numbers(tmp_path, block_bytes):
    from vigil.hashsets import text

    path = tmp_path / "list.txt"
    path.write_bytes(f"{MD5}\r\n{MD5}\r\nbad-line\r\n".encode())
    original, text.BLOCK_BYTES = text.BLOCK_BYTES, block_bytes
    try:
        with pytest.raises(InputFormatError, match=r"list.txt:3: "):
            list(text.read_text_blocks(path))
    finally:
        text.BLOCK_BYTES = original
