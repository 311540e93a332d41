"""Form bodies (application/x-www-form-urlencoded), read without a multipart library: bounded in
fields and size (BodyGuard has bounded the body already), every value text, many values per name."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.requests import Request

from vigil.errors import VigilError

MAX_FIELDS = 2_000  # a case grid may post a group of many files
MAX_VALUE = 10_000


def whole(text: str, digits: int = 9) -> int | None:
    """`text` as a whole number of at most `digits` ASCII digits, else None (`"²".isdigit()` is
    True, and `int("²")` raises)."""
    return int(text) if re.fullmatch(f"[0-9]{{1,{digits}}}", text or "") else None


class Form:
    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs

    def get(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.pairs if k == name), default)

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]

    def as_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, v in self.pairs:
            out.setdefault(k, v)
        return out


async def read_form(request: Request) -> Form:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if body and kind != "application/x-www-form-urlencoded":
        raise VigilError("the form must be sent as application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict"
        )
    except (UnicodeDecodeError, ValueError):
        raise VigilError(f"the form is not UTF-8 text of at most {MAX_FIELDS} fields") from None
    too_long = next((k for k, v in pairs if len(v) > MAX_VALUE or len(k) > 100), None)
    if too_long is not None:
        raise VigilError(f"the form field {too_long[:100]!r} is longer than {MAX_VALUE:,} characters")
    if any("\x00" in k or "\x00" in v for k, v in pairs):
        raise VigilError("the form holds a NUL character")
    return Form(pairs)
