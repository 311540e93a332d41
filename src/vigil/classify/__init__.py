"""The common classification: category labels and the mappings of interchange schemes onto them.

Labels are stable lower-case keys; formats map their own codes onto them here, so no reader invents
its own vocabulary.
"""

from __future__ import annotations

from vigil.errors import VigilError

# Project VIC / VICS "US" scheme, as Autopsy and Griffeye list it.
VICS_US = {
    0: "non_pertinent",
    1: "csam",
    2: "child_exploitive",
    3: "cgi_animation",
    4: "comparison",
}
# The older six-value scheme: 0 means *uncategorised* here, not "non-pertinent".
VICS_LEGACY = {
    0: "uncategorized",
    1: "legacy_category_1",
    2: "legacy_category_2",
    3: "legacy_category_3",
    4: "legacy_category_4",
    5: "non_pertinent",
}
SCHEMES = {"us": VICS_US, "legacy": VICS_LEGACY}
UNCATEGORIZED = "uncategorized"


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
