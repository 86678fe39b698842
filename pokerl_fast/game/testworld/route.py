"""A near-optimal scripted route through the benchmark world, milestone by milestone.

``python -m pokerl_fast.game.testworld.route`` plays it on the benchmark world ROM and prints, for each
milestone, the emulated frames from the bedroom and the env steps they make (24 frames each):
the yardstick an agent's steps to each milestone are read against. The test suite plays the same route.
"""

from __future__ import annotations

import argparse
import sys

from pokerl_fast.game import constants as C
from pokerl_fast.game.testworld import layout as L
from pokerl_fast.game.testworld.bench import BENCH
from pokerl_fast.game.testworld.drive import (
    STEP_FRAMES,
    DriveError,
    finish_battle,
    go_to,
    in_control,
    play_scene,
    press,
    step_onto,
    wait_until,
)

__all__ = ["ROUTE", "play_route", "play_on_benchworld", "level", "event_set", "main"]


def event_set(pyboy, name: str) -> bool:
    addr, bit = L.event_bit(name)
    return bool(pyboy.memory[addr] >> bit & 1)


def level(pyboy) -> int:
    return pyboy.memory[C.PARTY_MON1_LEVEL]


def _talk(pyboy, xy, facing: str) -> None:
    go_to(pyboy, "OAKS_LAB", xy, world=BENCH)
    wait_until(pyboy, in_control, 200, "control before talking")
    press(pyboy, facing)  # Oak blocks: the player turns towards him
    press(pyboy, "a")
    play_scene(pyboy)


def _grind(pyboy, target_level: int, max_presses: int = 4000) -> None:
    """Walk up and down Route 2's north grass (healing in Pewter's Pokemon Center when low) until the mon
    reaches ``target_level``."""
    spots = [("ROUTE_2_N", (3, 2)), ("ROUTE_2_N", (3, 3))]
    k = 0
    for _ in range(max_presses):
        if level(pyboy) >= target_level:
            return
        m = pyboy.memory
        hp = m[C.PARTY_MON1_HP] << 8 | m[C.PARTY_MON1_HP + 1]
        if hp <= 10:
            step_onto(pyboy, "PEWTER_POKECENTER", (4, 1), world=BENCH)
            continue
        room, xy = spots[k % 2]
        go_to(pyboy, room, xy, world=BENCH)
        k += 1
        if pyboy.memory[C.IS_IN_BATTLE]:
            finish_battle(pyboy)
    raise DriveError(f"level {level(pyboy)} after {max_presses} grinding presses (wanted {target_level})")


def _finish_any_battle(pyboy) -> None:
    play_scene(pyboy)


ROUTE = (
    ("EVENT_FOLLOWED_OAK_INTO_LAB", lambda pb: step_onto(pb, "PALLET_N", (4, 2), world=BENCH)),
    ("EVENT_FOLLOWED_OAK_INTO_LAB_2", lambda pb: step_onto(pb, "OAKS_LAB", (4, 3), world=BENCH)),
    ("EVENT_OAK_ASKED_TO_CHOOSE_MON", lambda pb: _talk(pb, (4, 2), "up")),
    ("EVENT_GOT_STARTER", lambda pb: step_onto(pb, "OAKS_LAB", (6, 2), world=BENCH)),
    ("EVENT_BATTLED_RIVAL_IN_OAKS_LAB", lambda pb: (step_onto(pb, "OAKS_LAB", (4, 6), world=BENCH),
                                                    _finish_any_battle(pb))),
    ("EVENT_GOT_OAKS_PARCEL", lambda pb: step_onto(pb, "VIRIDIAN_MART", (3, 5), world=BENCH)),
    ("EVENT_OAK_GOT_PARCEL", lambda pb: _talk(pb, (4, 2), "up")),
    ("EVENT_GOT_POKEDEX", lambda pb: _talk(pb, (4, 2), "up")),
    ("PEWTER_CITY", lambda pb: go_to(pb, "PEWTER_S", (4, 6), world=BENCH)),
    ("LEVEL_15", lambda pb: _grind(pb, 15)),
    ("HEALED", lambda pb: step_onto(pb, "PEWTER_POKECENTER", (4, 1), world=BENCH)),
    ("EVENT_BEAT_BROCK", lambda pb: (step_onto(pb, "PEWTER_GYM", (4, 1), world=BENCH), _finish_any_battle(pb))),
)
"""(milestone, how to reach it from where the previous one left the player). PEWTER_CITY, LEVEL_15 and
HEALED are way points, not Red events."""


def reached(pyboy, name: str) -> bool:
    if name.startswith("EVENT_"):
        return event_set(pyboy, name)
    if name == "PEWTER_CITY":
        return pyboy.memory[C.CUR_MAP] == C.MAP_IDS["PEWTER_CITY"]
    if name.startswith("LEVEL_"):
        return level(pyboy) >= int(name.split("_")[1])
    return True


def play_route(pyboy) -> list[tuple[str, int]]:
    """Play ROUTE from the start state loaded in ``pyboy``; (milestone, frames from the start) as each is reached."""
    start = pyboy.frame_count
    out = []
    for name, action in ROUTE:
        action(pyboy)
        play_scene(pyboy)
        if not reached(pyboy, name):
            raise DriveError(f"the route did not reach {name}")
        out.append((name, pyboy.frame_count - start))
    return out


def play_on_benchworld(wrap=None) -> list[tuple[str, int]]:
    """Boot the benchmark world ROM, play ROUTE on it (through ``wrap(pyboy)`` when given: something that
    forwards to the PyBoy and watches its ticks), stop the emulator; play_route's table."""
    from pokerl_fast.game.emulator import new_pyboy
    from pokerl_fast.game.testworld import benchworld_rom_path, boot

    pyboy = new_pyboy(benchworld_rom_path())
    try:
        boot(pyboy)
        return play_route(wrap(pyboy) if wrap else pyboy)
    finally:
        pyboy.stop(save=False)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    print(f"| milestone | frames | env steps of {STEP_FRAMES} frames |\n|---|---|---|")
    for name, frames in play_on_benchworld():
        print(f"| {name} | {frames:,} | {frames // STEP_FRAMES:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
