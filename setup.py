"""Build-only: declares the native extensions. Metadata lives in pyproject.toml."""

import glob
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

CSRC = os.path.join("csrc")

extensions = [
    Extension(
        name="pokerl_fast._native." + os.path.splitext(os.path.basename(path))[0],
        sources=[path],
        language="c++",
        include_dirs=[CSRC, numpy.get_include()],
        depends=sorted(glob.glob(os.path.join(CSRC, "*.h"))),
        extra_compile_args=["-O3", "-std=c++17", "-Wno-unused-function", "-fopenmp"],
        extra_link_args=["-fopenmp"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for path in sorted(glob.glob(os.path.join("pokerl_fast", "_native", "*.pyx")))
    # POKERL_ONLY=_kernels,_emu builds just those modules (handy while iterating on one).
    if not os.environ.get("POKERL_ONLY")
    or os.path.splitext(os.path.basename(path))[0] in os.environ["POKERL_ONLY"].split(",")
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)
