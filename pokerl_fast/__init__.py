"""pokerl_fast: fast, tested reinforcement learning for Pokemon Red on PyBoy.

    env = pokerl_fast.make_env()                 # one Gymnasium env on the bundled test world
    venv = pokerl_fast.make_vec_env(8, rom=...)  # eight emulators stepped as one batch
"""

import warnings as _warnings

__version__ = "0.1.0"

# PyBoy imports pysdl2, which warns on every import that it uses its bundled SDL2; we never open a window.
_warnings.filterwarnings("ignore", message="Using SDL2 binaries from pysdl2-dll", category=UserWarning)

__all__ = ["__version__", "make_env", "make_vec_env"]


def __getattr__(name):
    # Lazy: `import pokerl_fast.game.constants` should not load the emulator or the native core.
    if name in ("make_env", "make_vec_env"):
        from pokerl_fast import env

        return getattr(env, name)
    raise AttributeError(f"module 'pokerl_fast' has no attribute {name!r}")
