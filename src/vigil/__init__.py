"""Vigil: find known abuse material by hash, fast, and keep hashes and findings — never content."""

__version__ = "0.1.0"
