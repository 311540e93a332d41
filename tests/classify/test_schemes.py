"""The classification lives in the core as data: schemes, the report schema and its mappings."""

from __future__ import annotations

import tomllib
from importlib import resources

from vigil.classify import SCHEMES, severity_rank, vics_category, vics_code
from vigil.classify.schema import mapped, schema


def _data() -> dict:
    return tomllib.loads(resources.files("vigil.classify").joinpath("data/classification.toml").read_text())


def test_vics_schemes_come_from_the_data_file_and_round_trip():
    data = _data()
    for name, table in SCHEMES.items():
        assert table == {int(code): label for code, label in data["vics"][name].items()}
        for code, label in table.items():
            assert vics_category(code, name) == label and vics_code(label, name) == code


def test_every_severity_maps_onto_the_other_scales_as_the_data_says():
    data = _data()
    for severity in schema()["fields"]["severity"]["values"]:
        expected = {s: t[severity] for s, t in data["mappings"].items() if severity in t}
        assert mapped({"severity": severity}) == expected
    assert mapped({"severity": "penetrative_sadism_bestiality"}) == {
        "england_wales": "A", "copine": 9, "vics": "csam"
    }  # fmt: skip
    # the VICS mapping only names labels the VICS scheme knows
    assert set(data["mappings"]["vics"].values()) <= set(SCHEMES["us"].values())


def test_severity_rank_orders_hits_most_severe_first():
    labels = ["non_pertinent", "someone_elses_label", "child_exploitive", "csam", "uncategorized"]
    ordered = sorted(labels, key=severity_rank)
    assert ordered == ["csam", "child_exploitive", "someone_elses_label", "uncategorized", "non_pertinent"]


def test_an_extension_adds_values_and_fields_never_removes(tmp_path):
    extra = tmp_path / "extra.toml"
    extra.write_text('[fields.assessment]\nvalues = ["under_review"]\n[fields.platform]\nvalues = ["x"]\n')
    merged = schema(str(extra))
    base = schema()
    assessment = merged["fields"]["assessment"]["values"]
    assert assessment == [*base["fields"]["assessment"]["values"], "under_review"]
    assert merged["fields"]["platform"]["values"] == ["x"]
    assert all(set(v["values"]) <= set(merged["fields"][k]["values"]) for k, v in base["fields"].items())
