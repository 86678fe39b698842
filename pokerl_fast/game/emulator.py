"""The one place PyBoy instances are made, so every emulator runs with the same settings."""

from __future__ import annotations

import io
import os

from pokerl_fast.game import constants as C

SOUND_EMULATED = False
"""Sound is off everywhere (start states, training, evaluation): faster, and sound-on runs drift apart
from sound-off ones, so a state made with one setting does not replay under the other. Recorded with
every env state and checkpoint."""


RAM_BANKS = {0: 0, 1: 0, 2: 1, 3: 4, 4: 16, 5: 8}
"""The cartridge header's RAM size code (byte 0x149) -> 8 KiB banks of cartridge RAM (Pan Docs)."""


def cartridge_ram_size(rom_path: str | os.PathLike) -> int:
    """Bytes of cartridge RAM the ROM's header asks for (Red: 32 KiB, the size of its .sav; our test world: 0)."""
    with open(rom_path, "rb") as f:
        header = f.read(0x150)
    return RAM_BANKS.get(header[0x149], 0) * C.SRAM_BANK_SIZE if len(header) == 0x150 else 0


def new_pyboy(rom_path: str | os.PathLike, sav: bytes | None = None, window: str = "null", **kwargs):
    """A DMG PyBoy for ``rom_path`` with the project's settings: headless unless ``window`` (SDL2, ...) is asked
    for; other PyBoy arguments (``scale``) in ``kwargs``.

    Cartridge RAM starts as ``sav`` (a battery save of the cartridge's size), else blank: never from a ``.ram``
    file that happens to lie beside the ROM (PyBoy's own default), so a start made from the ROM is the same on
    every machine."""
    from pyboy import PyBoy

    size = cartridge_ram_size(rom_path)
    if sav is not None and len(sav) != size:
        raise ValueError(f"the save has {len(sav)} bytes but this cartridge's RAM is {size}")
    ram = io.BytesIO(bytes(sav) if sav is not None else bytes(size)) if size else None
    return PyBoy(os.fspath(rom_path), window=window, sound_emulated=SOUND_EMULATED, cgb=False, log_level="ERROR",
                 ram_file=ram, **kwargs)
