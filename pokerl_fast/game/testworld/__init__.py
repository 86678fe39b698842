"""The project's own Game Boy test world: a tiny Pokemon Red at the memory level, built in Python.

Every test, benchmark and default training run uses this ROM instead of the real game. It keeps Red's
RAM addresses (``pokerl_fast.game.constants``) changing for Red's reasons: walking, doors, event flags,
badges, wild battles, Pokedex bits, money, bag, HP and blackouts. See ``docs/testworld.md``.

Public API::

    build_testworld_rom() -> bytes       # deterministic 32 KiB image
    testworld_rom_path() -> str          # cached file named by its SHA-1 (PyBoy is built from a path)
    benchworld_rom_path() -> str         # the benchmark world (bench.BENCH): the early game's long quests
    world_rom_path(name)                 # by name: WORLDS = {"testworld": TEST, "benchworld": BENCH, "benchsave": ...}
    boot(pyboy) / wait_ready(pyboy)      # tick until READY_ADDR == READY_VALUE
    press, go_to, approach, step_onto, face, use_field_move, ...        (drive the ROM like the env does)
    READY_ADDR, READY_VALUE, START_MAP, START_XY, START_FACING
    ROOMS, DOORS, TRIGGERS, NPCS, GYMS, HEALS, PICKUPS, ENCOUNTERS, find_path, ...   (from layout)
"""

from __future__ import annotations

import functools
import hashlib

from pokerl_fast.fileio import write_atomic
from pokerl_fast.game.cache import CACHE_ENV, cache_dir

from pokerl_fast.game.testworld.drive import (
    approach,
    boot,
    close_menus,
    face,
    go_to,
    in_menu,
    open_party_menu,
    position,
    press,
    select_item,
    step_onto,
    use_field_move,
    wait_ready,
    wait_until,
)
from pokerl_fast.game.testworld.layout import (
    BLACKOUT_ROOM,
    BLACKOUT_XY,
    DIRECTIONS,
    DOORS,
    ENCOUNTER_ONE_IN,
    ENCOUNTERS,
    FACING_DOWN,
    FACING_LEFT,
    FACING_RIGHT,
    FACING_UP,
    GYMS,
    HEALS,
    NPCS,
    PICKUPS,
    ROOMS,
    START_FACING,
    START_MAP,
    START_MONEY,
    START_ROOM,
    START_XY,
    STARTER,
    STARTER_LEVEL,
    STARTER_MAX_HP,
    STARTER_MOVES,
    TRIGGERS,
    Door,
    Gym,
    Heal,
    Npc,
    Pickup,
    Room,
    Species,
    Talk,
    Trigger,
    World,
    TEST,
    cells_of,
    event_bit,
    find_path,
    room,
    room_of_map,
    special_at,
)
from pokerl_fast.game.testworld.bench import BENCH, BENCH_SAVE
from pokerl_fast.game.testworld.world import PRIVATE_RAM, READY_ADDR, READY_VALUE, TITLE, build_rom

__all__ = [
    "build_testworld_rom", "testworld_rom_path", "build_benchworld_rom", "benchworld_rom_path", "world_rom_path",
    "build_world_rom", "world_of", "WORLDS", "World", "TEST", "BENCH", "BENCH_SAVE", "cache_dir", "boot", "wait_ready", "press", "go_to",
    "approach", "step_onto", "position", "wait_until", "face", "in_menu", "close_menus", "select_item",
    "open_party_menu", "use_field_move", "STARTER_MOVES", "cells_of",
    "READY_ADDR", "READY_VALUE", "PRIVATE_RAM", "TITLE",
    "START_ROOM", "START_MAP", "START_XY", "START_FACING", "BLACKOUT_ROOM", "BLACKOUT_XY",
    "STARTER", "STARTER_LEVEL", "STARTER_MAX_HP", "START_MONEY", "ENCOUNTER_ONE_IN", "ENCOUNTERS",
    "FACING_DOWN", "FACING_UP", "FACING_LEFT", "FACING_RIGHT", "DIRECTIONS",
    "ROOMS", "DOORS", "TRIGGERS", "NPCS", "GYMS", "HEALS", "PICKUPS",
    "Room", "Door", "Trigger", "Talk", "Npc", "Gym", "Heal", "Pickup", "Species",
    "room", "room_of_map", "event_bit", "special_at", "find_path",
]


WORLDS = {"testworld": TEST, "benchworld": BENCH, "benchsave": BENCH_SAVE}
"""The project's own worlds by the name ``--rom`` accepts: the small test world, the benchmark world, and the
benchmark world with Red's battery save (SAVE, the main menu, CONTINUE: what ``--start-save`` is tested on)."""


def world_of(name: str) -> World:
    try:
        return WORLDS[name]
    except KeyError:
        raise ValueError(f"no bundled world named {name!r}; choose one of {sorted(WORLDS)}") from None


@functools.lru_cache(maxsize=None)
def build_world_rom(name: str) -> bytes:
    """A bundled world's ROM image: 32 KiB, byte-identical on every call (built once per process)."""
    return build_rom(world_of(name))


def build_testworld_rom() -> bytes:
    """The test world ROM image: 32 KiB, byte-identical on every call (built once per process)."""
    return build_world_rom("testworld")


def build_benchworld_rom() -> bytes:
    """The benchmark world ROM image."""
    return build_world_rom("benchworld")


def testworld_rom_path() -> str:
    """Path of the test world ROM in the cache folder, named by its SHA-1; written once, atomically."""
    return world_rom_path("testworld")


def benchworld_rom_path() -> str:
    """Path of the benchmark world ROM in the cache folder."""
    return world_rom_path("benchworld")


def world_rom_path(name: str) -> str:
    """Path of a bundled world's ROM in the cache folder, named by its SHA-1; written once, atomically."""
    rom = build_world_rom(name)
    folder = cache_dir()
    path = folder / f"{name}-{hashlib.sha1(rom).hexdigest()}.gb"
    if path.is_file() and path.stat().st_size == len(rom) and path.read_bytes() == rom:
        return str(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(f"cannot create the cache folder {folder} ({e}); set {CACHE_ENV} to a writable folder") from e
    write_atomic(path, rom)  # concurrent writers all end with the same complete file
    return str(path)
