"""The report use cases behind one object for the interfaces: intake (reports.intake), read
(reports.read), queue (reports.queue), classify (reports.classify), share (reports.share) and link
(reports.links); the hash check is `checker`, the look-up behind `vigil match`. Each use case checks
who is asking and writes the audit log in its own transaction; this class only holds what they share
(database, hash checker, priority rules, the intake writer)."""

from __future__ import annotations

from dataclasses import dataclass, field

from vigil.reports import classify as classify_case
from vigil.reports import intake as intake_case
from vigil.reports import links as links_case
from vigil.reports import priority, read, template
from vigil.reports import queue as queue_case
from vigil.reports import share as share_case
from vigil.reports.accounts import Principal
from vigil.reports.errors import Forbidden, InvalidInput
from vigil.reports.hashcheck import HashChecker
from vigil.reports.intake import MAX_BATCH, link_keys
from vigil.reports.writer import GroupWriter
from vigil.store.db import Database

__all__ = ["MAX_BATCH", "Forbidden", "InvalidInput", "ReportService", "link_keys"]


@dataclass
class ReportService:
    db: Database
    checker: HashChecker
    rules: tuple = ()
    classification_extra: str | None = None  # the organisation's extension of the schema (TOML)
    writer: GroupWriter = field(init=False, repr=False)

    def __post_init__(self):
        self.rules = self.rules or priority.default_rules()
        self.writer = GroupWriter(self._store, size=lambda job: len(job.reports))

    def _store(self, jobs: list) -> list:
        return intake_case.store(self.db, self.rules, jobs)

    def warm(self) -> None:
        """Do before the first request what it would wait for (~0.2 s, paid by every request queued
        behind it): compile the report template's checks, open the hash-set indexes, and read as
        intake reads and writes (connection opened, statements compiled and prepared) in a transaction
        that is rolled back."""
        template.validate({})
        self.checker.sets()
        intake_case.warm(self.db, self.rules)

    # -- intake -----------------------------------------------------------------------------------
    def prepare(self, principal: Principal | None, bodies: list, channel: str, public_org, batch: bool):
        return intake_case.prepare(principal, bodies, channel, public_org, batch, self.checker)

    def intake(
        self, principal: Principal | None, body, channel: str = "api", public_org: int | None = None
    ) -> dict:
        """Store one report; returns its id, completeness, file matches and priority with reasons."""
        job = self.prepare(principal, [body], channel, public_org, batch=False)
        return self._store([job])[0][0]

    def intake_batch(
        self, principal: Principal | None, bodies: list, channel: str = "api", public_org: int | None = None
    ) -> list[dict]:
        """Store 1 to MAX_BATCH reports in one transaction: all of them, or none (every problem of
        every report is named as /reports/N/...)."""
        job = self.prepare(principal, bodies, channel, public_org, batch=True)
        return self._store([job])[0]

    async def submit(self, job) -> list[dict]:
        """Store a prepared request through the intake writer (grouped with concurrent ones)."""
        return await self.writer.submit(job)

    # -- the other use cases ----------------------------------------------------------------------
    def get(self, principal: Principal, report_id: int) -> dict:
        return read.get_report(self.db, principal, report_id)

    def queue(self, principal: Principal, limit: int = 100) -> list[dict]:
        return queue_case.open_reports(self.db, principal, limit)

    def classify(self, principal: Principal, report_id: int, labels, file: int | None = None) -> dict:
        return classify_case.classify(self.db, principal, report_id, labels, file, self.classification_extra)

    def share(self, principal: Principal, report_id: int, org_name: str) -> dict:
        return share_case.share(self.db, principal, report_id, org_name)

    def link(self, principal: Principal, report_id: int, other: int, reason: str | None = None) -> dict:
        return links_case.link(self.db, principal, report_id, other, reason)

    def unlink(self, principal: Principal, report_id: int, other: int) -> dict:
        return links_case.unlink(self.db, principal, report_id, other)
