"""Bytes per value of each signal."""

WIDTHS = {"md5": 16, "sha1": 20, "sha256": 32, "pdq": 32}
