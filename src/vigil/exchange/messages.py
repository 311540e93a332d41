"""What travels between organisations: one JSON message per forwarded report or feedback, the same
within an instance and between instances (where it is signed, exchange.signing). A message's id makes
delivery idempotent: applying it twice changes nothing the second time. Incoming messages are someone
else's data: parsed with bounded sizes, and a report inside is checked against the template as any
submitted report is."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from vigil.errors import VigilError
from vigil.store.db import utcnow

VERSION = 1
MAX_MESSAGE_BYTES = 20 * 1024 * 1024  # a report of 10,000 files with their classifications fits
OUTCOMES = (
    "accepted",
    "case_opened",
    "victim_identified",
    "offender_identified",
    "no_action",
    "not_illegal_here",
)

PLAIN = r"^[^\x00-\x1f\x7f]*$"  # one line, no control characters (names, labels, rules)
TEXT = r"^[^\x00]*$"  # free text: anything PostgreSQL can store (no NUL)
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=PLAIN)]
Plain = Annotated[str, Field(max_length=320, pattern=PLAIN)]
Labels = dict[
    Annotated[str, Field(max_length=100, pattern=PLAIN)], Annotated[str, Field(max_length=100, pattern=PLAIN)]
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hop(_Strict):
    sender: Name = Field(alias="from")
    to: Name
    at: AwareDatetime
    rule: Plain
    by: Plain
    files: list[int] = Field(max_length=10_000)


class FileLabels(_Strict):
    position: int = Field(ge=0, le=10_000)
    labels: Labels | None = None
    prior: dict | None = None  # the sender's earlier-assessment record of the file, as intake made it


class ReportBody(_Strict):
    report: dict  # checked against the report template on receipt
    files: list[FileLabels] = Field(max_length=10_000)
    labels: Labels | None = None  # the sender's classification of the whole report
    rule: Plain
    by: Plain
    history: list[Hop] = Field(default_factory=list, max_length=100)

    @field_validator("files")
    @classmethod
    def _distinct(cls, files: list[FileLabels]) -> list[FileLabels]:
        if len({f.position for f in files}) != len(files):
            raise ValueError("each file position once")
        return files


class FeedbackBody(_Strict):
    forward: str = Field(min_length=1, max_length=64)  # the id of the report message it answers
    outcome: Literal[OUTCOMES]  # type: ignore[valid-type]
    reason: str | None = Field(None, max_length=2000, pattern=TEXT)
    by: Plain


class OpinionItem(_Strict):
    signal: str = Field(min_length=1, max_length=16, pattern=r"^[a-z0-9_]+$")
    value: str = Field(min_length=8, max_length=128, pattern=r"^[0-9a-fA-F]+$")
    # HMA's write-back, and take it down's status: `seen` a match on the subscriber's platform,
    # `actioned` the matching content removed or blocked there
    opinion: Literal["positive", "negative", "seen", "actioned"]
    reason: str | None = Field(None, max_length=500, pattern=TEXT)

    @model_validator(mode="after")
    def _a_known_signal(self) -> OpinionItem:
        """A registered signal, and a value of its width."""
        from vigil.signals import get_signal

        try:
            width = get_signal(self.signal).width
        except VigilError:
            raise ValueError(f"unknown signal {self.signal!r}") from None
        if len(self.value) != 2 * width:
            raise ValueError(f"{self.signal} has {2 * width} hex digits, got {len(self.value)}")
        return self


class OpinionBody(_Strict):
    """A subscriber's opinions of hashes in a publisher's feed (the write-back HMA lacks)."""

    feed: Name
    items: list[OpinionItem] = Field(min_length=1, max_length=10_000)
    by: Plain


class Message(_Strict):
    v: Literal[1]
    id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    kind: Literal["report", "feedback", "opinion"]
    sender: Name = Field(alias="from")
    to: Name
    at: AwareDatetime
    body: dict


BODIES = {"report": ReportBody, "feedback": FeedbackBody, "opinion": OpinionBody}


def new(kind: str, sender: str, to: str, body: dict) -> dict:
    return {
        "v": VERSION,
        "id": uuid.uuid4().hex,
        "kind": kind,
        "from": sender,
        "to": to,
        "at": utcnow().isoformat() + "Z",
        "body": body,
    }


class BadMessage(VigilError):
    """A message that does not follow the format; `problems` name the fields."""

    def __init__(self, problems: list[dict]):
        self.problems = problems[:20]
        super().__init__(
            "the message does not follow the exchange format: "
            + "; ".join(f"{p['field']}: {p['message']}" for p in self.problems[:5])
        )


def _problems(exc: ValidationError, prefix: str) -> list[dict]:
    return [
        {"field": prefix + "/" + "/".join(str(p) for p in e["loc"]), "message": e["msg"][:200]}
        for e in exc.errors(include_url=False)
    ]


def parse(data) -> tuple[Message, BaseModel]:
    """(envelope, body) of a decoded message, or BadMessage naming every field that is wrong."""
    try:
        message = Message.model_validate(data)
    except ValidationError as exc:
        raise BadMessage(_problems(exc, "")) from None
    try:
        return message, BODIES[message.kind].model_validate(message.body)
    except ValidationError as exc:
        raise BadMessage(_problems(exc, "/body")) from None
