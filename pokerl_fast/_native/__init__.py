"""Private native extensions, one job each:

- _bridge (Cython): the only code that cimports PyBoy; gives the core each emulator's ports and saves states.
- _core (pybind11): the C++ core of csrc/: the env step, the batched kernels and each native decision.
"""

import importlib.util as _util
import os as _os

if _util.find_spec(__name__ + "._bridge") is None or _util.find_spec(__name__ + "._core") is None:
    raise ImportError(
        f"pokerl_fast's native extensions are not built in {_os.path.dirname(__file__)}; "
        "run `pip install .` (or `pip install -e .`) in the repository"
    )
