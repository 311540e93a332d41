"""The standard report template: a versioned JSON Schema (data/report-schema.json) with complete
examples. Validation names every field that is wrong as a JSON pointer and says what was expected;
messages quote at most ~100 characters of the input.

Two validators, one semantics: fastjsonschema (compiled, for the common valid case) and jsonschema
(to name every problem) get the same format functions (FORMATS: web URLs by vigil.reports.urls, the
parser that makes the link keys; RFC 3339 dates; IP addresses by `ipaddress`), so neither uses its own
built-in idea of a format; tests/api/test_validation_agreement.py shows they agree on generated reports."""

from __future__ import annotations

import ipaddress
import json
from functools import cache
from importlib import resources

from vigil.reports import urls

SCHEMA_VERSION = "1.0"
MAX_PROBLEMS = 100  # listed per answer; a batch of 1,000 bad reports does not answer megabytes


@cache
def report_schema() -> dict:
    return json.loads(resources.files("vigil.reports").joinpath("data/report-schema.json").read_text())


def _date_time(value) -> bool:
    """RFC 3339 date-time with a time zone (`T`/`Z` in either case), as jsonschema reads it."""
    from rfc3339_validator import validate_rfc3339

    return not isinstance(value, str) or ("\n" not in value and validate_rfc3339(value.upper()))


def _ipv4(value) -> bool:
    try:
        return not isinstance(value, str) or bool(ipaddress.IPv4Address(value))
    except ValueError:
        return False


def _ipv6(value) -> bool:
    """An IPv6 address without a zone (`%eth0` names an interface of the reporter's machine)."""
    try:
        return not isinstance(value, str) or not ipaddress.IPv6Address(value).scope_id
    except ValueError:
        return False


def _iri(value) -> bool:
    return not isinstance(value, str) or urls.is_web_url(value)


FORMATS = {"iri": _iri, "date-time": _date_time, "ipv4": _ipv4, "ipv6": _ipv6}


@cache
def _fast():
    """The schema compiled to Python by fastjsonschema (draft-07 keywords only are used, so the
    2020-12 schema compiles as draft-07): ~50x faster than jsonschema on a valid report, the common
    case. It stops at the first error, so an invalid report is re-checked by jsonschema for all."""
    import fastjsonschema

    schema = {k: v for k, v in report_schema().items() if k not in ("$id", "examples", "version")}
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return fastjsonschema.compile(schema, formats=FORMATS)


@cache
def _validator():
    from jsonschema import Draft202012Validator, FormatChecker

    checker = FormatChecker(formats=())  # only ours: the same functions as the fast path
    for name, check in FORMATS.items():
        checker.checks(name)(check)
    checker.checks("iri", raises=ValueError)(lambda v: not isinstance(v, str) or urls.check(v))  # says why
    return Draft202012Validator(report_schema(), format_checker=checker)


def pointer(path) -> str:
    """RFC 6901 JSON pointer (`~` and `/` escaped), each part cut to 100 characters."""
    return "/" + "/".join(str(p)[:100].replace("~", "~0").replace("/", "~1") for p in path) if path else "/"


_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}


def _message(error) -> str:
    """What is wrong, quoting the input only in short (urls.short)."""
    v, value, instance = error.validator, error.validator_value, error.instance
    if v == "additionalProperties":
        extra = sorted(k for k in instance if k not in error.schema.get("properties", {}))
        return "unknown field: " + ", ".join(urls.short(k, 50) for k in extra[:5])
    if v == "required":
        return f"missing: {', '.join(repr(k) for k in value if k not in instance)} is required"
    if v == "enum":
        return f"must be one of {', '.join(map(str, value))}, got {urls.short(instance)}"
    if v == "pattern":
        return f"{urls.short(instance)} does not match {value}"
    if v == "format":
        reason = f": {error.cause}" if error.cause else ""
        return f"{urls.short(instance)} is not a valid {'web URL' if value == 'iri' else value}{reason}"
    if v == "type":
        got = _TYPES.get(type(instance), "a number")
        return f"must be {value if isinstance(value, str) else ' or '.join(value)}, got {got}"
    if v == "maxLength":
        return f"longer than {value} characters ({len(instance)})"
    if v == "minLength":
        return f"shorter than {value} characters"
    if v in ("maxItems", "minItems"):
        return f"{'at most' if v == 'maxItems' else 'at least'} {value} items, got {len(instance)}"
    if v in ("maxProperties", "minProperties"):
        return f"{'at most' if v == 'maxProperties' else 'at least'} {value} fields, got {len(instance)}"
    if v in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "const", "multipleOf"):
        return f"{urls.short(instance, 40)} breaks {v} {value}"
    message = error.message
    return message if len(message) <= 200 else message[:200] + "…"


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
        errors.append({"field": pointer(error.absolute_path), "message": _message(error)})
        if len(errors) >= MAX_PROBLEMS:
            break
    return sorted(errors, key=lambda e: (e["field"], e["message"]))
