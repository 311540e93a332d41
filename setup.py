"""Builds the compiled parts of Vigil: the PDQ multi-index search loop (src/vigil/index/_mih.c) and the
near-duplicate join (src/vigil/index/_clusters.c).

Everything else is declared in pyproject.toml.
"""

import platform

from setuptools import Extension, setup

# popcnt in hardware: every x86-64 server of the last decade has it (x86-64-v2)
flags = ["-O3", "-march=x86-64-v2"] if platform.machine() in ("x86_64", "AMD64") else ["-O3"]

setup(
    ext_modules=[
        Extension("vigil.index._mih", sources=["src/vigil/index/_mih.c"], extra_compile_args=flags),
        # the near-duplicate join (vigil.index.clusters); picks its AVX2 loop at run time
        Extension("vigil.index._clusters", sources=["src/vigil/index/_clusters.c"], extra_compile_args=flags),
    ]
)
