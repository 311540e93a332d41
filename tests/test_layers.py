"""The layers of DESIGN.md hold: import-linter's contracts (pyproject.toml) are all kept."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_core_does_not_import_storage_or_interfaces():
    """A direct check too, so a misconfigured contract cannot pass silently."""
    core = ["signals", "media", "hashsets", "index", "classify"]
    for package in core:
        for path in (ROOT / "src" / "vigil" / package).rglob("*.py"):
            text = path.read_text()
            for banned in ("vigil.store", "vigil.scan", "vigil.cli", "sqlalchemy", "typer"):
                assert f"import {banned}" not in text and f"from {banned}" not in text, (path, banned)
