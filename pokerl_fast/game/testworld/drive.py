"""Drive the test world in PyBoy the way the env does: hold a button for 8 frames, tick 24.

Used by tests, benchmarks and ``python -m pokerl_fast.game.testworld``. Everything waits on RAM, with a
frame cap, never on a bare tick count.
"""

from __future__ import annotations

from pokerl_fast.game import constants as C
from pokerl_fast.game.testworld import layout as L
from pokerl_fast.game.testworld.world import MENU_STATES, PRIVATE_RAM, READY_ADDR, READY_VALUE, STATES

__all__ = [
    "HOLD_FRAMES", "STEP_FRAMES", "BOOT_FRAME_LIMIT", "DriveError",
    "boot", "wait_ready", "press", "wait_until", "position", "events_set", "in_control", "finish_battle", "go_to",
    "play_scene",
    "approach", "step_onto", "face", "in_menu", "close_menus", "select_item", "open_party_menu",
    "use_field_move",
]

HOLD_FRAMES = 8  # the env holds a button this long
STEP_FRAMES = 24  # and ticks this many frames per action
BOOT_FRAME_LIMIT = 600


class DriveError(RuntimeError):
    """The game did not reach the expected state within the frame cap."""


def wait_until(pyboy, condition, max_frames: int, what: str) -> int:
    """Tick one frame at a time until ``condition(pyboy.memory)``; returns the frames ticked."""
    for frame in range(max_frames + 1):
        if condition(pyboy.memory):
            return frame
        pyboy.tick(1, render=False)
    raise DriveError(f"waited {max_frames} frames for {what}; the ROM or the script is wrong")


def boot(pyboy, max_frames: int = BOOT_FRAME_LIMIT) -> int:
    """Tick a freshly started PyBoy until the test world says it is ready; returns the frames ticked."""
    return wait_until(pyboy, lambda m: m[READY_ADDR] == READY_VALUE, max_frames, "the test world's ready byte")


wait_ready = boot


def press(pyboy, button: str, frames: int = STEP_FRAMES, render: bool = False) -> None:
    """One env-like action: hold ``button`` for HOLD_FRAMES frames, tick ``frames`` frames in all."""
    pyboy.button(button, HOLD_FRAMES)
    pyboy.tick(frames, render=render)


def position(pyboy, world: L.World = L.TEST) -> tuple[str, tuple[int, int]]:
    """(room name, (x, y) in the room) read from RAM (the ROM's room index and the room position, which
    differ from Red's X_COORD/Y_COORD by the room's offset in its map)."""
    m = pyboy.memory
    return world.rooms[m[PRIVATE_RAM["wRoom"]]].name, (m[PRIVATE_RAM["wPosX"]], m[PRIVATE_RAM["wPosY"]])


def events_set(pyboy, world: L.World = L.TEST) -> list[str]:
    """The world's events that are set in RAM (the people in the way waiting for them have stepped aside)."""
    m = pyboy.memory
    names = {b.event for b in world.blockers} | set(world.events())
    return [e for e in sorted(names) if m[L.event_bit(e)[0]] >> L.event_bit(e)[1] & 1]


def in_control(mem) -> bool:
    return mem[C.JOY_IGNORE] == 0 and mem[C.IS_IN_BATTLE] == 0 and mem[C.WALK_COUNTER] == 0


def _menu_to(pyboy, index: int, across: bool) -> None:
    """Move a red_time battle cursor to ``index``: the 2x2 FIGHT/PKMN/ITEM/RUN grid (``across``) or the move list."""
    m = pyboy.memory
    for _ in range(8):
        here = m[C.CURRENT_MENU_ITEM]
        if here == index:
            return
        if across:
            press(pyboy, "right" if (here ^ index) & 1 else "down")
        else:
            press(pyboy, "down")
    raise DriveError(f"the battle cursor did not reach item {index}")


def play_scene(pyboy, *, yes: bool = True, run: bool = False, move: int = 0, max_presses: int = 400) -> bool:
    """Play through whatever is on screen until the player walks freely again: text (A at each prompt), YES/NO
    (``yes``), the naming screen (START, A: the default name), battles (FIGHT with move slot ``move``, or RUN
    from a wild one when ``run``), and the test world's own battles and dialogs (A). Returns True if the party
    fainted on the way (a blackout or a forgiven loss)."""
    m = pyboy.memory
    s = STATES
    fainted = False
    for _ in range(max_presses):
        state = m[PRIVATE_RAM["wState"]]
        if m[C.IS_IN_BATTLE] and m[C.PARTY_MON1_HP] == 0 and m[C.PARTY_MON1_HP + 1] == 0:
            fainted = True
        if state == s["IDLE"] and m[C.IS_IN_BATTLE] == 0 and m[C.JOY_IGNORE] == 0:
            return fainted
        if state == s["YESNO"]:
            press(pyboy, "a" if yes else "b")
        elif state == s["NAMING"]:
            press(pyboy, "start")
            press(pyboy, "a")
        elif state == s["B_MENU"]:
            choice = 3 if run and m[C.IS_IN_BATTLE] == C.BATTLE_WILD else 0
            _menu_to(pyboy, choice, across=True)
            press(pyboy, "a")
        elif state == s["B_MOVES"]:
            _menu_to(pyboy, move, across=False)
            press(pyboy, "a")
        elif state == s["B_SUB"]:
            press(pyboy, "b")
        elif state in (s["WALK"], s["PUSH"]) or (state == s["IDLE"] and m[C.JOY_IGNORE]):
            pyboy.tick(1, render=False)
        else:  # text, the test world's battle and dialogs
            press(pyboy, "a")
    raise DriveError(f"still in state {m[PRIVATE_RAM['wState']]} after {max_presses} presses")


def finish_battle(pyboy, max_presses: int = 400) -> bool:
    """Play the battle to its end (won, or lost to a blackout). Returns True if the party fainted."""
    return play_scene(pyboy, max_presses=max_presses)


def go_to(pyboy, room_name: str, xy: tuple[int, int], max_steps: int = 400, heal_below: int = 0,
          passable=(), world: L.World = L.TEST) -> int:
    """Walk (through doors, fighting any battle) until standing at ``room_name``/``xy``.

    Closes any open menu first. Replans after every unexpected event (battle, blackout). ``passable``:
    ``(room, (x, y))`` cells to walk through although the layout has a tree, water or boulder there.
    Returns the number of d-pad presses.
    """
    if world.room(room_name).tile(xy) == L.DOOR:
        raise DriveError(f"{room_name} {tuple(xy)} is a door: nobody stands on it; use step_onto() to go through")
    steps = 0
    close_menus(pyboy)
    while position(pyboy, world) != (room_name, tuple(xy)):
        if steps >= max_steps:
            raise DriveError(f"not at {room_name} {xy} after {max_steps} steps (at {position(pyboy, world)})")
        play_scene(pyboy)  # through any text or battle
        here_room, here = position(pyboy, world)
        if (here_room, here) == (room_name, tuple(xy)):
            break
        path = world.find_path(here_room, here, room_name, xy, passable=passable,
                               opened_by=events_set(pyboy, world))
        press(pyboy, path[0])
        steps += 1
        play_scene(pyboy)
    return steps


def approach(pyboy, room_name: str, xy: tuple[int, int], passable=(), world: L.World = L.TEST) -> str:
    """Walk to the floor neighbour of ``xy`` with the shortest path; return the press that steps onto
    (or, for a blocking tile such as an NPC, faces) ``xy`` from there."""
    best = None
    close_menus(pyboy)
    here = position(pyboy, world)
    opened = events_set(pyboy, world)
    stepped_aside = {b.xy for b in world.blockers if b.room == room_name and b.event in opened}
    for name, (dx, dy, _) in L.DIRECTIONS.items():
        nb = (xy[0] - dx, xy[1] - dy)
        if world.room(room_name).tile(nb) == L.FLOOR or nb in stepped_aside:
            try:
                cost = 0 if here == (room_name, nb) else len(
                    world.find_path(*here, room_name, nb, passable=passable, opened_by=opened))
            except L.LayoutError:
                continue  # that side is out of reach
            if best is None or cost < best[0]:
                best = (cost, nb, name)
    if best is None:
        raise DriveError(f"{room_name} {xy} has no floor neighbour to step from")
    _, nb, name = best
    go_to(pyboy, room_name, nb, passable=passable, world=world)
    play_scene(pyboy)
    return name


def step_onto(pyboy, room_name: str, xy: tuple[int, int], world: L.World = L.TEST) -> str:
    """From the nearest floor neighbour, walk onto ``xy`` with a single press; returns the direction."""
    name = approach(pyboy, room_name, xy, world=world)
    press(pyboy, name)
    return name


def face(pyboy, room_name: str, xy: tuple[int, int], passable=(), world: L.World = L.TEST) -> str:
    """Stand on a floor neighbour of the blocking cell ``xy`` (tree, water, boulder, NPC) facing it;
    returns the direction pressed. The player is in control afterwards."""
    if world.room(room_name).tile(xy) not in L.SOLID:
        raise DriveError(f"{room_name} {tuple(xy)} is walkable: face() would step onto it; use approach()")
    name = approach(pyboy, room_name, xy, passable=passable, world=world)
    press(pyboy, name)  # blocked: the player only turns
    wait_until(pyboy, in_control, 200, "control after turning")
    if pyboy.memory[C.PLAYER_FACING] != L.DIRECTIONS[name][2]:
        raise DriveError(f"pressed {name} next to {room_name} {xy} but the player does not face it")
    return name


def in_menu(pyboy) -> bool:
    """The start menu, the party menu or the field-move submenu is open (the test world's own state)."""
    return pyboy.memory[PRIVATE_RAM["wState"]] in {STATES[n] for n in MENU_STATES}


def close_menus(pyboy, max_presses: int = 4) -> None:
    """Press B until no menu is open (B leaves the submenu, then the party menu, then the start menu)."""
    for _ in range(max_presses):
        if not in_menu(pyboy):
            return
        press(pyboy, "b")
    if in_menu(pyboy):
        raise DriveError(f"a menu is still open after {max_presses} B presses")


def select_item(pyboy, index: int) -> None:
    """Move the open menu's cursor to ``index`` with the fewest UP/DOWN presses (the cursor wraps)."""
    m = pyboy.memory
    if not in_menu(pyboy):
        raise DriveError("no menu is open: press START first")
    count = m[PRIVATE_RAM["wMenuLast"]] + 1  # MAX_MENU_ITEM holds the start menu's item count, as in Red
    if not 0 <= index < count:
        raise DriveError(f"menu item {index} does not exist: the open menu has {count} items")
    down = (index - m[C.CURRENT_MENU_ITEM]) % count
    button, presses = ("down", down) if down <= count - down else ("up", count - down)
    for _ in range(presses):
        press(pyboy, button)
    if m[C.CURRENT_MENU_ITEM] != index:
        raise DriveError(
            f"the cursor is on item {m[C.CURRENT_MENU_ITEM]} after {presses} {button} presses, not {index}")


def open_party_menu(pyboy) -> None:
    """From the overworld: START, the POKEMON entry (second with the Pokedex, else first), A."""
    m = pyboy.memory
    wait_until(pyboy, lambda mem: in_control(mem) and mem[PRIVATE_RAM["wState"]] == STATES["IDLE"], 200,
               "control before opening the start menu")
    press(pyboy, "start")
    addr, bit = L.event_bit("EVENT_GOT_POKEDEX")
    select_item(pyboy, m[addr] >> bit & 1)
    press(pyboy, "a")
    if m[PRIVATE_RAM["wState"]] != STATES["PARTY_MENU"]:
        raise DriveError("the party menu did not open")


def use_field_move(pyboy, field_move: int, mon: int = 0, frames: int = STEP_FRAMES) -> None:
    """Open the start menu, pick party mon ``mon`` and use ``field_move`` (a constants.FIELD_MOVE_* index)
    from its submenu; the last A press ticks ``frames`` frames (fewer than the 16-frame dialog to see it)."""
    m = pyboy.memory
    open_party_menu(pyboy)
    select_item(pyboy, mon)
    press(pyboy, "a")
    listed = list(m[C.FIELD_MOVES:C.FIELD_MOVES + m[C.NUM_FIELD_MOVES]])
    if field_move not in listed:
        close_menus(pyboy)
        raise DriveError(f"party mon {mon} has no field move {field_move} (its field moves: {listed})")
    select_item(pyboy, listed.index(field_move))
    press(pyboy, "a", frames)
