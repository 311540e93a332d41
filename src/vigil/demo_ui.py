"""`make ui`: the web UI on the demo data. Adds to `.demo/vigil.db` (made by `make demo`) a demo
hotline with an analyst and an admin, and a morning's reports built from the demo evidence's hashes —
some of known pictures (they match the demo hash lists), some repeats, some from the public — so the
queue, a report page, the case and the dashboard have something benign to show. Run twice, it adds
nothing the second time."""

from __future__ import annotations

import sys
from pathlib import Path

from vigil.errors import NotFoundError
from vigil.reports.accounts import Accounts
from vigil.reports.hashcheck import HashChecker
from vigil.reports.service import ReportService
from vigil.reports.template import report_schema
from vigil.scan.hashing import hash_bytes
from vigil.store import open_database

ORG = "Demo Hotline"
PASSWORD = "demo-password-1"  # a demo on a laptop; never a real deployment's
USERS = {"analyst@demo.example": "analyst", "admin@demo.example": "admin"}


def _report(i: int, files: list[tuple[str, str]], country: str) -> dict:
    import copy

    body = copy.deepcopy(report_schema()["examples"][0])
    body["channel"]["urls"] = [f"https://images.example.org/gallery/{1000 + i}"]
    body["reportedPerson"]["screenName"] = f"uploader_{i % 4}"
    body["jurisdiction"] = country
    body["files"] = [
        {"fileName": name, "hashes": {"md5": md5}, "publiclyAvailable": True} for name, md5 in files
    ]
    return body


def populate(root: Path) -> bool:
    """Add the demo organisation, users and reports; False when they are there already."""
    db = open_database(str(root / "vigil.db"))
    accounts = Accounts(db)
    try:
        accounts.org_id(ORG)
        return False
    except NotFoundError:
        pass
    accounts.create_org(ORG, "hotline", "NL")
    for email, role in USERS.items():
        accounts.create_user(email, ORG, role, PASSWORD)
    service = ReportService(db, HashChecker(db))
    analyst = accounts.principal_of("analyst@demo.example")
    pictures = sorted(
        p for p in (root / "evidence").rglob("*") if p.suffix.lower() in (".jpg", ".png", ".webp")
    )
    hashed = [(p.name, hash_bytes(p.read_bytes(), p.name).md5) for p in pictures]
    countries = ["NL", "NL", "BE", "DE", "NL", "FR"]
    for i in range(12):
        files = [hashed[(i * 2 + k) % len(hashed)] for k in range(1 + i % 3)]
        channel = "public" if i % 4 == 3 else "api"
        who = None if channel == "public" else analyst
        org = accounts.org_id(ORG) if channel == "public" else None
        service.intake(who, _report(i % 9, files, countries[i % len(countries)]), channel, org)
    return True


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else ".demo")
    added = populate(root)
    print(
        ("demo organisation and reports added to " if added else "demo reports already in ")
        + f"{root}/vigil.db"
    )
    print("open http://127.0.0.1:8000 and sign in as analyst@demo.example (or admin@demo.example),")
    print(f"password {PASSWORD}; Ctrl-C stops the server")


if __name__ == "__main__":
    main()
