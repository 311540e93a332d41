from __future__ import annotations

import json
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hashsets.conftest import assert_reads_or_fails_cleanly
from vigil.errors import InputFormatError
from vigil.hashsets import detect_format, read_entries

MD5 = "D41D8CD98F00B204E9800998ECF8427E"
SHA1 = "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
V2 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
V1 = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"


def write(tmp_path, doc, name="export.json"):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def media(**extra):
    return {"MediaID": 7, "MD5": MD5, "Category": 1, **extra}


def test_v2_media_with_pdq_and_string_booleans(tmp_path):
    doc = {
        "@odata.context": V2,
        "value": [
            media(
                SHA1=SHA1,
                VictimIdentified="true",
                IsDistributed="false",
                Series="s",
                Comments="c",
                AlternativeHashes=[
                    {"MD5": MD5, "HashName": "PDQ", "HashValue": PDQ},
                    {"MD5": MD5, "HashName": "PhotoDNA", "HashValue": "AAAA"},
                ],
            )
        ],
    }
    path = write(tmp_path, doc)
    assert detect_format(path) == "vics"
    got = list(read_entries(path))
    assert [(e.signal, e.value.hex()) for e in got] == [
        ("md5", MD5.lower()),
        ("sha1", SHA1.lower()),
        ("pdq", PDQ),
    ]
    assert {(e.category, e.series, e.comment, e.ref) for e in got} == {("csam", "s", "c", "7")}


def test_v1_metadata_and_navigation_keys_are_read(tmp_path):
    doc = {
        "odata.metadata": V1,
        "value": [
            {"odata.id": f'Media("{MD5}")', "MediaFiles@odata.navigationLinkUrl": "x", **media(Category="2")}
        ],
    }
    (entry,) = read_entries(write(tmp_path, doc))
    assert entry.category == "child_exploitive"


def test_missing_category_is_uncategorised_and_legacy_scheme_differs(tmp_path):
    path = write(tmp_path, {"@odata.context": V2, "value": [{"MD5": MD5}, media(Category=0)]})
    assert [e.category for e in read_entries(path)] == ["uncategorized", "non_pertinent"]
    assert [e.category for e in read_entries(path, scheme="legacy")] == ["uncategorized", "uncategorized"]


def test_cases_export(tmp_path):
    doc = {
        "@odata.context": V2.replace("#Media", "#Cases"),
        "value": [{"CaseID": "c1", "Media": [media(), media(MD5=SHA1[:32])]}, {"CaseID": "c2", "Media": []}],
    }
    assert len(list(read_entries(write(tmp_path, doc)))) == 2


@pytest.mark.parametrize(
    ("doc", "where", "what"),
    [
        ({"value": []}, None, "not a VICS file"),
        ({"@odata.context": "http://x/$metadata#Widgets", "value": []}, "@odata.context", "'#Media'"),
        ({"@odata.context": V2, "value": [media(), media(MD5="xyz")]}, "value[1].MD5", "md5 must be 32"),
        ({"@odata.context": V2, "value": [media(Category="abc")]}, "value[0].Category", "0-255"),
        ({"@odata.context": V2, "value": [{"Category": 1}]}, "value[0]", "no MD5"),
        (
            {"@odata.context": V2, "value": [media(AlternativeHashes=[{"HashName": "PDQ", "HashValue": 5}])]},
            "value[0].AlternativeHashes[0].HashValue",
            "pdq hex",
        ),
        ({"@odata.context": V2, "value": ["oops"]}, "value[0]", "Media object"),
    ],
)
def test_bad_documents_name_the_json_path(tmp_path, doc, where, what):
    path = write(tmp_path, doc)
    with pytest.raises(InputFormatError) as err:
        list(read_entries(path, "vics"))
    assert err.value.where == where
    assert what in str(err.value)
    assert str(err.value).startswith(str(path))


def test_truncated_json_is_a_clear_error(tmp_path):
    text = json.dumps({"@odata.context": V2, "value": [media(), media()]})
    with pytest.raises(InputFormatError, match="invalid JSON"):
        list(read_entries(write(tmp_path, text[:-30]), "vics"))


def test_reading_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "w") as fh:
        fh.write(f'{{"@odata.context": "{V2}", "value": [')
        fh.write(",".join(json.dumps({"MD5": f"{i:032x}", "Category": 1}) for i in range(100_000)))
        fh.write("]}")
    tracemalloc.start()
    count = sum(1 for _ in read_entries(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 100_000
    assert peak < 5 << 20, f"peak {peak / 1e6:.1f} MB: the reader holds the file in memory"


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=40),
            lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4),
            max_leaves=12,
        ).map(lambda v: json.dumps({"@odata.context": V2, "value": v}).encode()),
    )
)
def test_fuzz_vics_reader_fails_only_with_vigil_errors(tmp_path_factory, data):
    assert_reads_or_fails_cleanly(tmp_path_factory, data, "x.json", "vics")
