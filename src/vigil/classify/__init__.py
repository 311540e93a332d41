"""The common classification: category labels and the mappings of interchange schemes onto them.

Labels are stable lower-case keys; formats map their own codes onto them here, so no reader invents
its own vocabulary. The schemes themselves are data (data/classification.toml), with the report
classification schema and its mappings (vigil.classify.schema).
"""

from __future__ import annotations

from vigil.classify.schema import DATA
from vigil.errors import VigilError

# Project VIC / VICS schemes (code -> label), from data/classification.toml
VICS_US: dict[int, str] = {int(code): label for code, label in DATA["vics"]["us"].items()}
VICS_LEGACY: dict[int, str] = {int(code): label for code, label in DATA["vics"]["legacy"].items()}
SCHEMES = {"us": VICS_US, "legacy": VICS_LEGACY}
UNCATEGORIZED = "uncategorized"
MOST_SEVERE_FIRST: tuple[str, ...] = tuple(DATA["categories"]["most_severe_first"])
LEAST_SEVERE: tuple[str, ...] = tuple(DATA["categories"]["least_severe"])


def severity_rank(category: str | None) -> int:
    """Sort rank of a hash-list category: 0 is the most severe; unknown labels come after the severe
    ones and before the benign ones (uncategorised, comparison, non-pertinent)."""
    if category in MOST_SEVERE_FIRST:
        return MOST_SEVERE_FIRST.index(category)
    if category in LEAST_SEVERE:
        return len(MOST_SEVERE_FIRST) + 1 + LEAST_SEVERE.index(category)
    return len(MOST_SEVERE_FIRST)


def vics_category(code: object, scheme: str = "us") -> str:
    """Label for a VICS `Category` value (int or numeric string); missing means uncategorised."""
    if code is None or code == "":
        return UNCATEGORIZED
    try:
        number = int(str(code).strip())
    except ValueError:
        raise VigilError(f"Category must be a number 0-255, got {code!r}") from None
    if not 0 <= number <= 255:
        raise VigilError(f"Category must be a number 0-255, got {number}")
    return SCHEMES[scheme].get(number, f"vics_{number}")


def vics_code(label: str | None, scheme: str = "us") -> int | None:
    """The VICS code of a label, for export; None when the scheme has no code for it."""
    for code, name in SCHEMES[scheme].items():
        if name == label:
            return code
    if label and label.startswith("vics_") and label[5:].isdigit():
        return int(label[5:])
    return None


def normalise_label(text: str) -> str:
    """A free-text category from a list ("CSAM", "Child exploitive") as a label key."""
    label = "_".join(text.strip().lower().replace("-", " ").split())
    if label.isdigit():
        return vics_category(label)
    return label or UNCATEGORIZED
