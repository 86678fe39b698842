"""The one place PyBoy instances are made, so every emulator runs with the same settings."""

from __future__ import annotations

import os

SOUND_EMULATED = False
"""Sound is off everywhere (start states, training, evaluation): faster, and sound-on runs drift apart
from sound-off ones, so a state made with one setting does not replay under the other. Recorded with
every env state and checkpoint."""


def new_pyboy(rom_path: str | os.PathLike):
    """A headless DMG PyBoy for ``rom_path`` with the project's settings."""
    from pyboy import PyBoy

    return PyBoy(os.fspath(rom_path), window="null", sound_emulated=SOUND_EMULATED, cgb=False, log_level="ERROR")
