"""Vigil: find known abuse material by hash, fast, and keep hashes and findings — never content."""

__version__ = "0.1.0"

import os as _os

# Vigil's numeric work is many small matrix products (PDQ: 64 x side). A multi-threaded BLAS gains
# nothing there and, with one worker process per core, its threads fight the other workers (measured:
# a 2-worker scan ran 2x slower than 1 worker). One BLAS thread per process unless the user says so.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")
