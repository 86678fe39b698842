"""The user's cache folder: where the test world ROM and the start states made from a ROM are kept.

    $POKERL_CACHE_DIR, or ~/.cache/pokerl_fast
        testworld-<sha1>.gb          (testworld.testworld_rom_path)
        states/<sha1>-sound0.state   (red.start_state)
"""

from __future__ import annotations

import os
import pathlib

CACHE_ENV = "POKERL_CACHE_DIR"


def cache_dir(*subfolders: str) -> pathlib.Path:
    """$POKERL_CACHE_DIR (``~`` expanded), or ~/.cache/pokerl_fast, joined with `subfolders`; nothing is created."""
    root = os.environ.get(CACHE_ENV)
    base = pathlib.Path(root).expanduser() if root else pathlib.Path.home() / ".cache" / "pokerl_fast"
    return base.joinpath(*subfolders)
