"""Private native extensions: _emu (the PyBoy bridge) and _kernels (batched RAM/obs/explore/reward kernels)."""

import importlib.util as _util
import os as _os

if _util.find_spec(__name__ + "._emu") is None or _util.find_spec(__name__ + "._kernels") is None:
    raise ImportError(
        f"pokerl_fast's native extensions are not built in {_os.path.dirname(__file__)}; "
        "run `pip install -e .` in the repository (or run from outside the source tree after `pip install .`)"
    )
