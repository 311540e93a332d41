"""The app is made from one settings object: an organisation's classification extension, given in the
settings (VIGIL_CLASSIFICATION_EXTRA or the VIGIL_CONFIG file), reaches the schema and the checks."""

from __future__ import annotations

import dataclasses

from fastapi.testclient import TestClient

from tests.api.conftest import example
from vigil.api.app import create_app
from vigil.settings import Settings


def test_the_classification_extension_comes_from_the_settings(tmp_path, db_url, make_org, client):
    extra = tmp_path / "extra.toml"
    extra.write_text('[fields.assessment]\nvalues = ["under_review"]\n')
    org = make_org()
    settings = dataclasses.replace(Settings(), db=db_url, classification_extra=str(extra))
    with TestClient(create_app(settings=settings), raise_server_exceptions=False) as extended:
        fields = extended.get("/schema/classification").json()["fields"]
        assert "under_review" in fields["assessment"]["values"]
        made = extended.post("/v1/reports", json=example(0), headers=org.h())
        assert made.status_code == 201, made.text
        path = f"/v1/reports/{made.json()['id']}/classifications"
        labels = {"labels": {"assessment": "under_review"}}
        assert extended.post(path, json=labels, headers=org.h()).status_code == 201
    # the app made without it refuses the value
    assert "under_review" not in client.get("/schema/classification").json()["fields"]["assessment"]["values"]
    assert client.post(path, json=labels, headers=org.h()).status_code == 422
