"""Checking a report's classification against the common schema (vigil.classify.schema, data in the
core `classify` package): problems as JSON pointers for the API. An organisation extends the schema
with its own TOML file (`extra`: the settings' classification_extra, VIGIL_CLASSIFICATION_EXTRA)."""

from __future__ import annotations

from vigil.classify.schema import mapped, schema
from vigil.reports.urls import short

__all__ = ["check", "mapped", "schema"]


def check(labels: dict, extra: str | None = None) -> list[dict]:
    """Problems with a classification: [{"field", "message"}]; empty when valid."""
    fields = schema(extra)["fields"]
    problems = []
    if not isinstance(labels, dict) or not labels:
        return [{"field": "/labels", "message": "must be an object of field: value"}]
    for name, spec in fields.items():
        if spec.get("required") and name not in labels:
            problems.append(
                {"field": f"/labels/{name}", "message": f"missing; one of {', '.join(spec['values'])}"}
            )
    for name, value in labels.items():
        where = "/labels/" + str(name)[:100].replace("~", "~0").replace("/", "~1")  # a JSON pointer
        if name not in fields:
            problems.append({"field": where, "message": f"unknown field; known: {', '.join(fields)}"})
        elif value not in fields[name]["values"]:
            problems.append(
                {
                    "field": where,
                    "message": f"must be one of {', '.join(fields[name]['values'])}, got {short(value)}",
                }
            )
        if len(problems) >= 100:
            break
    return problems
