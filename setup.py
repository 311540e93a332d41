"""Builds the one compiled part of Vigil: the PDQ multi-index search loop (src/vigil/index/_mih.c).

Everything else is declared in pyproject.toml.
"""

import platform

from setuptools import Extension, setup

# popcnt in hardware: every x86-64 server of the last decade has it (x86-64-v2)
flags = ["-O3", "-march=x86-64-v2"] if platform.machine() in ("x86_64", "AMD64") else ["-O3"]

setup(ext_modules=[Extension("vigil.index._mih", sources=["src/vigil/index/_mih.c"], extra_compile_args=flags)])
