"""Vigil: find known abuse material by hash, fast, and keep hashes and findings — never content."""

__version__ = "0.1.0"

# Nothing happens on import: process-wide settings (BLAS threads, Pillow limits) are applied by the
# entry points from one settings object (vigil.settings).
