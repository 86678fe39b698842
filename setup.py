"""Build-only: declares the native extensions. Metadata lives in pyproject.toml.

- pokerl_fast._native._bridge (Cython): the only code that cimports PyBoy; hands the core each emulator's ports.
- pokerl_fast._native._core (pybind11): the C++ core of csrc/ (the env step, kernels, decisions).

A plain `pip install .` also leaves copies of the built modules in the source tree, so that running
`python -m pokerl_fast.train` or `pytest` from the repository root (where the source package shadows the
installed one) finds them; they are build outputs, ignored by git.
"""

import glob
import os
import shutil

import numpy
import pybind11
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

CSRC = "csrc"
HEADERS = sorted(glob.glob(os.path.join(CSRC, "*.h")))
COMMON = dict(
    language="c++",
    depends=HEADERS,
    extra_compile_args=["-O3", "-std=c++17", "-Wno-unused-function", "-fopenmp"],
    extra_link_args=["-fopenmp"],
)

bridge = Extension(
    name="pokerl_fast._native._bridge",
    sources=["pokerl_fast/_native/_bridge.pyx"],
    include_dirs=[CSRC, numpy.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    **COMMON,
)
core = Extension(
    name="pokerl_fast._native._core",
    sources=["pokerl_fast/_native/_core.cpp"],
    include_dirs=[CSRC, pybind11.get_include()],
    **{**COMMON, "extra_compile_args": COMMON["extra_compile_args"] + ["-fvisibility=hidden"]},
)


class BuildExt(build_ext):
    """build_ext that, in a non-editable build from a source checkout, copies each module beside its source."""

    def run(self):
        super().run()
        if self.inplace:
            return
        root = os.path.dirname(os.path.abspath(__file__))
        if not os.path.isdir(os.path.join(root, ".git")):
            return  # an sdist or wheel build elsewhere: no source tree to serve
        for ext in self.extensions:
            built = self.get_ext_fullpath(ext.name)
            target = os.path.join(root, self.get_ext_filename(ext.name))
            if os.path.exists(built) and os.path.abspath(built) != os.path.abspath(target):
                shutil.copy2(built, target)


setup(
    ext_modules=cythonize(
        [bridge],
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )
    + [core],
    cmdclass={"build_ext": BuildExt},
)
