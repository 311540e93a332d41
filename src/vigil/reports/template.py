"""The standard report template: a versioned JSON Schema (data/report-schema.json) with complete
examples. Validation names every field that is wrong as a JSON pointer and says what was expected."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

SCHEMA_VERSION = "1.0"


@cache
def report_schema() -> dict:
    return json.loads(resources.files("vigil.reports").joinpath("data/report-schema.json").read_text())


@cache
def _fast():
    """The schema compiled to Python by fastjsonschema (draft-07 keywords only are used, so the
    2020-12 schema compiles as draft-07): ~50x faster than jsonschema on a valid report, the common
    case. It stops at the first error, so an invalid report is re-checked by jsonschema for all."""
    import fastjsonschema

    schema = {k: v for k, v in report_schema().items() if k not in ("$id", "examples", "version")}
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return fastjsonschema.compile(schema)


@cache
def _validator():
    from jsonschema import Draft202012Validator, FormatChecker

    return Draft202012Validator(report_schema(), format_checker=FormatChecker())


def pointer(path) -> str:
    return "/" + "/".join(str(p) for p in path) if path else "/"


def validate(body) -> list[dict]:
    """The problems with a report body: [{"field": JSON pointer, "message": what is wrong}], sorted."""
    import fastjsonschema

    try:
        _fast()(body)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    errors = []
    for error in _validator().iter_errors(body):
        where = pointer(error.absolute_path)
        if error.validator == "additionalProperties":
            message = f"unknown field: {error.message}"
        elif error.validator == "required":
            message = f"missing: {error.message}"
        elif error.validator == "enum":
            message = f"must be one of {', '.join(map(str, error.validator_value))}, got {error.instance!r}"
        elif error.validator == "pattern":
            message = f"{error.instance!r} does not match {error.validator_value}"
        elif error.validator == "format":
            message = f"{error.instance!r} is not a valid {error.validator_value}"
        else:
            message = error.message
        errors.append({"field": where, "message": message})
    return sorted(errors, key=lambda e: (e["field"], e["message"]))
