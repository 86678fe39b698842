"""The test world's layout as plain data: rooms, doors, triggers, NPCs, the gym, heal and pickup tiles.

Everything here is read by the ROM builder (``world.py``) and by tests and tools that need to navigate
without magic numbers (``find_path``). Coordinates are ``(x, y)`` in player steps, exactly the values the
ROM keeps at ``X_COORD``/``Y_COORD``; rooms are named by their real Pokemon Red map so ``CUR_MAP`` holds
Red's map id and the global Kanto map offsets apply. See ``docs/testworld.md`` for the maps drawn out.

Legend of the room drawings::

    #  wall (blocks)        .  floor             ,  grass (random battles)
    D  door / map exit      T  event trigger     N  NPC (blocks; face it and press A)
    H  heal tile            I  item pickup       G  gym tile (badge)
    C  cut tree (blocks until cut with the field move CUT; back when the room is re-entered)
    W  water (blocks unless surfing)          B  boulder (blocks unless pushed with STRENGTH active)

Each room also carries the Red tileset id the ROM writes to ``CUR_MAP_TILESET`` when it loads.
"""

from __future__ import annotations

import dataclasses
import heapq

from pokerl_fast.game import constants as C

__all__ = [
    "FACING_DOWN", "FACING_UP", "FACING_LEFT", "FACING_RIGHT", "DIRECTIONS",
    "TILESET_REDS_HOUSE_1", "TILESET_REDS_HOUSE_2", "TILESET_DOJO", "STARTER_MOVES",
    "Room", "Door", "Trigger", "Talk", "Npc", "Gym", "Heal", "Pickup", "Species",
    "ROOMS", "DOORS", "TRIGGERS", "NPCS", "GYMS", "HEALS", "PICKUPS", "ENCOUNTERS",
    "START_ROOM", "START_MAP", "START_XY", "START_FACING", "BLACKOUT_ROOM", "BLACKOUT_XY",
    "STARTER", "STARTER_LEVEL", "STARTER_MAX_HP", "START_MONEY", "ENCOUNTER_ONE_IN",
    "SCREEN_STEPS_W", "SCREEN_STEPS_H", "LayoutError",
    "room", "room_of_map", "event_bit", "special_at", "specials", "is_walkable", "find_path", "validate",
    "cells_of", "HM_CHARS",
    "describe_rooms",
]

FACING_DOWN, FACING_UP, FACING_LEFT, FACING_RIGHT = 0x0, 0x4, 0x8, 0xC  # Red's values
# d-pad name -> (dx, dy, facing)
DIRECTIONS = {
    "down": (0, 1, FACING_DOWN),
    "up": (0, -1, FACING_UP),
    "left": (-1, 0, FACING_LEFT),
    "right": (1, 0, FACING_RIGHT),
}
SCREEN_STEPS_W, SCREEN_STEPS_H = 10, 9  # 160x144 px at 16 px per step: rooms fit without scrolling

WALL, FLOOR, GRASS, DOOR, TRIGGER, NPC, HEAL, ITEM, GYM = "#.,DTNHIG"
CUT_TREE, WATER, BOULDER = "CWB"
HM_CHARS = CUT_TREE + WATER + BOULDER
SOLID = frozenset({WALL, NPC, CUT_TREE, WATER, BOULDER})
LEGEND = "#.,DTNHIG" + HM_CHARS

# Red tileset ids (pokered constants/tileset_constants.asm) for the indoor rooms; the outdoor ones and the
# gym use constants.TILESET_OVERWORLD / TILESET_GYM.
TILESET_REDS_HOUSE_1 = 1
TILESET_REDS_HOUSE_2 = 4
TILESET_DOJO = 5  # Oak's lab uses it in Red
RED_TILESETS = 24  # OVERWORLD (0) .. PLATEAU (23)


class LayoutError(ValueError):
    """The layout data is inconsistent (a room too big for its map, a door into a wall, ...)."""


@dataclasses.dataclass(frozen=True)
class Room:
    name: str  # Pokemon Red map name, a key of constants.MAP_IDS
    rows: tuple[str, ...]
    tileset: int  # Red tileset id, written to CUR_MAP_TILESET when the room loads

    @property
    def map_id(self) -> int:
        return C.MAP_IDS[self.name]

    @property
    def width(self) -> int:
        return len(self.rows[0])

    @property
    def height(self) -> int:
        return len(self.rows)

    def tile(self, xy: tuple[int, int]) -> str:
        """The legend character at ``(x, y)``; outside the room counts as wall."""
        x, y = xy
        if 0 <= y < self.height and 0 <= x < self.width:
            return self.rows[y][x]
        return WALL


@dataclasses.dataclass(frozen=True)
class Door:
    """Stepping onto ``room``/``xy`` puts the player at ``dest_room``/``dest_xy`` (facing unchanged)."""

    room: str
    xy: tuple[int, int]
    dest_room: str
    dest_xy: tuple[int, int]


@dataclasses.dataclass(frozen=True)
class Trigger:
    """Stepping onto it sets one event flag (every time; only the first changes anything)."""

    room: str
    xy: tuple[int, int]
    event: str


@dataclasses.dataclass(frozen=True)
class Talk:
    """One thing an NPC does: set ``event`` if every event in ``requires`` is set."""

    event: str
    requires: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Npc:
    """Facing it and pressing A runs the first talk whose event is not yet set: when that talk's
    requirements are met its event is set (one per press), otherwise nothing happens. Every press opens
    a 16-frame dialog (``JOY_IGNORE`` non-zero)."""

    room: str
    xy: tuple[int, int]
    name: str
    talks: tuple[Talk, ...]


@dataclasses.dataclass(frozen=True)
class Gym:
    """Stepping onto it with every ``requires`` event set sets ``event`` and badge bit ``badge_bit``."""

    room: str
    xy: tuple[int, int]
    event: str
    badge_bit: int
    requires: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Heal:
    """Stepping onto it restores the party's HP to max."""

    room: str
    xy: tuple[int, int]


@dataclasses.dataclass(frozen=True)
class Pickup:
    """The first step onto it sets ``event``, appends ``item`` (qty 1) to the bag, adds ``money``;
    the tile turns into floor once ``event`` is set."""

    room: str
    xy: tuple[int, int]
    item: int
    item_name: str
    money: int
    event: str


@dataclasses.dataclass(frozen=True)
class Species:
    """A wild Pokemon: Red's internal species id (what ``ENEMY_MON_SPECIES`` holds) and its dex number."""

    name: str
    species_id: int
    dex: int


# ------------------------------------------------------------------------------------- the world
ROOMS: tuple[Room, ...] = (
    Room("REDS_HOUSE_2F", (
        "####D#",
        "#....#",
        "#....#",
        "#....#",
        "#....#",
        "######",
    ), TILESET_REDS_HOUSE_2),
    Room("REDS_HOUSE_1F", (
        "######D#",
        "#......#",
        "#.##...#",
        "#......#",
        "#H.....#",
        "#......#",
        "##D#####",
    ), TILESET_REDS_HOUSE_1),
    Room("PALLET_TOWN", (
        "####DD####",
        "#.,,..,,.#",
        "#..T.....#",
        "#.###.##.#",
        "#.#D#.#D.#",
        "#........#",
        "#........#",
        "#..####..#",
        "##########",
    ), C.TILESET_OVERWORLD),
    Room("OAKS_LAB", (
        "########",
        "#..N...#",
        "#......#",
        "#.##.T.#",
        "#......#",
        "#.T....#",
        "#...T..#",
        "#......#",
        "####D###",
    ), TILESET_DOJO),
    Room("ROUTE_1", (
        "####DD####",
        "#,,,..,,,#",
        "#,,,..,,,#",
        "#.,,..,,.#",
        "#..#..#..#",
        "#,,,..,,,#",
        "#,,,..,,,#",
        "#........#",
        "####DD####",
    ), C.TILESET_OVERWORLD),
    Room("VIRIDIAN_CITY", (
        "######D###",
        "#.###..I.#",
        "#.#D#....#",
        "#........#",
        "#.,,,....#",
        "#.,,,..,.#",
        "#......,.#",
        "#........#",
        "####DD####",
    ), C.TILESET_OVERWORLD),
    Room("PEWTER_GYM", (
        "#######",
        "#..G..#",
        "#.....#",
        "#.#.#.#",
        "#.....#",
        "#.#.#.#",
        "#.....#",
        "#.....#",
        "###D###",
    ), C.TILESET_GYM),
    # North of Viridian. Behind the tree (1,4): a pocket that needs Cut. The boulder (4,4) can be pushed up
    # into the pocket above it with Strength; the water (7,4),(7,3) leads to land at (7,2)/(8,3) with Surf.
    Room("ROUTE_2", (
        "##########",
        "#..#..#..#",
        "#..#..#..#",
        "#..#..#W.#",
        "#C##B##W##",
        "#........#",
        "#........#",
        "#........#",
        "######D###",
    ), C.TILESET_OVERWORLD),
)

START_ROOM = "REDS_HOUSE_2F"
START_MAP = C.MAP_IDS[START_ROOM]
START_XY = (2, 3)
START_FACING = FACING_DOWN
BLACKOUT_ROOM = "REDS_HOUSE_1F"  # also written to LAST_BLACKOUT_MAP at boot
BLACKOUT_XY = (3, 4)

DOORS: tuple[Door, ...] = (
    Door("REDS_HOUSE_2F", (4, 0), "REDS_HOUSE_1F", (6, 1)),
    Door("REDS_HOUSE_1F", (6, 0), "REDS_HOUSE_2F", (4, 1)),
    Door("REDS_HOUSE_1F", (2, 6), "PALLET_TOWN", (3, 5)),
    Door("PALLET_TOWN", (3, 4), "REDS_HOUSE_1F", (2, 5)),
    Door("PALLET_TOWN", (7, 4), "OAKS_LAB", (4, 7)),
    Door("OAKS_LAB", (4, 8), "PALLET_TOWN", (7, 5)),
    Door("PALLET_TOWN", (4, 0), "ROUTE_1", (4, 7)),
    Door("PALLET_TOWN", (5, 0), "ROUTE_1", (5, 7)),
    Door("ROUTE_1", (4, 8), "PALLET_TOWN", (4, 1)),
    Door("ROUTE_1", (5, 8), "PALLET_TOWN", (5, 1)),
    Door("ROUTE_1", (4, 0), "VIRIDIAN_CITY", (4, 7)),
    Door("ROUTE_1", (5, 0), "VIRIDIAN_CITY", (5, 7)),
    Door("VIRIDIAN_CITY", (4, 8), "ROUTE_1", (4, 1)),
    Door("VIRIDIAN_CITY", (5, 8), "ROUTE_1", (5, 1)),
    Door("VIRIDIAN_CITY", (3, 2), "PEWTER_GYM", (3, 7)),
    Door("PEWTER_GYM", (3, 8), "VIRIDIAN_CITY", (3, 3)),
    Door("VIRIDIAN_CITY", (6, 0), "ROUTE_2", (6, 7)),
    Door("ROUTE_2", (6, 8), "VIRIDIAN_CITY", (6, 1)),
)

TRIGGERS: tuple[Trigger, ...] = (
    Trigger("PALLET_TOWN", (3, 2), "EVENT_FOLLOWED_OAK_INTO_LAB"),
    Trigger("OAKS_LAB", (4, 6), "EVENT_FOLLOWED_OAK_INTO_LAB_2"),
    Trigger("OAKS_LAB", (5, 3), "EVENT_GOT_STARTER"),
    Trigger("OAKS_LAB", (2, 5), "EVENT_BATTLED_RIVAL_IN_OAKS_LAB"),
)

NPCS: tuple[Npc, ...] = (
    Npc("OAKS_LAB", (3, 1), "OAK", (
        Talk("EVENT_OAK_ASKED_TO_CHOOSE_MON"),
        Talk("EVENT_OAK_GOT_PARCEL", ("EVENT_GOT_OAKS_PARCEL",)),
        Talk("EVENT_GOT_POKEDEX", ("EVENT_OAK_GOT_PARCEL",)),
    )),
)

GYMS: tuple[Gym, ...] = (
    Gym("PEWTER_GYM", (3, 1), "EVENT_BEAT_BROCK", 0, ("EVENT_GOT_STARTER", "EVENT_GOT_POKEDEX")),
)

HEALS: tuple[Heal, ...] = (Heal("REDS_HOUSE_1F", (1, 4)),)

PICKUPS: tuple[Pickup, ...] = (
    Pickup("VIRIDIAN_CITY", (7, 1), 0x46, "OAKS_PARCEL", 500, "EVENT_GOT_OAKS_PARCEL"),
)

# The party at boot: one mon, like Red right after choosing a starter.
STARTER = Species("CHARMANDER", 0xB0, 4)
STARTER_LEVEL = 5
STARTER_MAX_HP = 20
STARTER_MOVES = (0x0A, 0x2D, 0, 0)  # SCRATCH, GROWL: Charmander's level-5 moves in Red
START_MONEY = 3000
ENCOUNTER_ONE_IN = 4  # each step onto grass starts a battle with probability 1/4
ENCOUNTERS: tuple[Species, ...] = (  # picked uniformly by 3 random bits
    Species("PIDGEY", 0x24, 16),
    Species("RATTATA", 0xA5, 19),
    Species("SPEAROW", 0x05, 21),
    Species("NIDORAN_M", 0x03, 32),
    Species("NIDORAN_F", 0x0F, 29),
    Species("CATERPIE", 0x7B, 10),
    Species("WEEDLE", 0x70, 13),
    Species("PIKACHU", 0x54, 25),
)


# ------------------------------------------------------------------------------------- queries
_ROOMS_BY_NAME = {r.name: r for r in ROOMS}


def room(name: str) -> Room:
    """The room for a Red map name."""
    try:
        return _ROOMS_BY_NAME[name]
    except KeyError:
        raise LayoutError(f"no test-world room named {name!r}; rooms are {sorted(_ROOMS_BY_NAME)}") from None


def room_of_map(map_id: int) -> Room:
    """The room whose Red map id is ``map_id``."""
    for r in ROOMS:
        if r.map_id == map_id:
            return r
    raise LayoutError(f"map id {map_id} is not a test-world room; rooms use {[r.map_id for r in ROOMS]}")


def event_bit(name: str) -> tuple[int, int]:
    """(address, bit) of an event flag name from constants.EVENT_FLAGS_BY_NAME."""
    try:
        return C.EVENT_FLAGS_BY_NAME[name]
    except KeyError:
        raise LayoutError(f"unknown event {name!r}: use a name from constants.EVENT_FLAGS_BY_NAME") from None


def specials() -> tuple:
    """Every special tile in the fixed order the ROM numbers them."""
    return DOORS + TRIGGERS + NPCS + GYMS + HEALS + PICKUPS


def special_at(room_name: str, xy: tuple[int, int]):
    """The door/trigger/NPC/gym/heal/pickup record at a position, or None."""
    for s in specials():
        if s.room == room_name and s.xy == tuple(xy):
            return s
    return None


def is_walkable(room_name: str, xy: tuple[int, int]) -> bool:
    return room(room_name).tile(xy) not in SOLID


def cells_of(room_name: str, char: str) -> list[tuple[int, int]]:
    """Every ``(x, y)`` of a room whose legend character is ``char`` (row by row)."""
    r = room(room_name)
    return [(x, y) for y, row in enumerate(r.rows) for x, ch in enumerate(row) if ch == char]


_CHAR_OF = {Door: DOOR, Trigger: TRIGGER, Npc: NPC, Gym: GYM, Heal: HEAL, Pickup: ITEM}


def find_path(
    start_room: str,
    start_xy: tuple[int, int],
    goal_room: str,
    goal_xy: tuple[int, int],
    avoid_grass: int = 20,
    avoid_special: int = 60,
    passable=(),
) -> list[str]:
    """Cheapest d-pad presses from one position to another, through doors.

    Each step costs 1, a grass step ``avoid_grass`` and a step onto a special tile (trigger, heal,
    pickup, gym) ``avoid_special`` unless it is the goal, so scripted walks avoid side effects.
    The goal may be any walkable tile, including a door (the path then ends by walking onto it).
    Cut trees, water and boulders are solid, except the ``(room, (x, y))`` cells in ``passable`` (a tree
    already cut, water while surfing, a boulder moved away). Raises LayoutError when there is no path.
    """
    opened = {(rn, tuple(xy)) for rn, xy in passable}
    start, goal = (start_room, tuple(start_xy)), (goal_room, tuple(goal_xy))
    doors = {(d.room, d.xy): (d.dest_room, d.dest_xy) for d in DOORS}
    dist = {start: 0}
    prev: dict = {}
    heap = [(0, 0, start)]
    order = 0
    while heap:
        cost, _, node = heapq.heappop(heap)
        if node == goal:
            break
        if cost > dist[node]:
            continue
        rname, (x, y) = node
        for name, (dx, dy, _) in DIRECTIONS.items():
            nxy = (x + dx, y + dy)
            r = room(rname)
            ch = r.tile(nxy)
            if ch in SOLID and (rname, nxy) not in opened:
                continue
            step = 1
            if ch == GRASS:
                step = avoid_grass
            elif ch in (TRIGGER, HEAL, ITEM, GYM) and (rname, nxy) != goal:
                step = avoid_special
            nxt = (rname, nxy)
            if ch == DOOR and (rname, nxy) != goal:
                nxt = doors[(rname, nxy)]
            ncost = cost + step
            if ncost < dist.get(nxt, 1 << 30):
                dist[nxt] = ncost
                prev[nxt] = (node, name)
                order += 1
                heapq.heappush(heap, (ncost, order, nxt))
    if goal not in dist:
        raise LayoutError(f"no path from {start} to {goal}")
    path = []
    node = goal
    while node != start:
        node, name = prev[node]
        path.append(name)
    return path[::-1]


def validate() -> None:
    """Check the layout is consistent; raises LayoutError saying what to fix."""
    maps = {m[1]: m for m in C.MAPS}
    names = [r.name for r in ROOMS]
    if len(set(names)) != len(names):
        raise LayoutError(f"room names repeat: {names}; each room is one Red map")
    for r in ROOMS:
        if r.name not in maps:
            raise LayoutError(f"room {r.name!r} is not a map with a Kanto global position (constants.MAPS)")
        _, _, _, _, tile_w, tile_h = maps[r.name]
        if not 0 <= r.tileset < RED_TILESETS:
            raise LayoutError(f"room {r.name}: tileset {r.tileset} is not a Red tileset id (0..{RED_TILESETS - 1})")
        if any(len(row) != r.width for row in r.rows):
            raise LayoutError(f"room {r.name}: rows have different lengths")
        if r.width > min(tile_w, SCREEN_STEPS_W) or r.height > min(tile_h, SCREEN_STEPS_H):
            raise LayoutError(
                f"room {r.name} is {r.width}x{r.height} steps; it must fit the map ({tile_w}x{tile_h}) "
                f"and the screen ({SCREEN_STEPS_W}x{SCREEN_STEPS_H})"
            )
        for y, row in enumerate(r.rows):
            for x, ch in enumerate(row):
                if ch not in LEGEND:
                    raise LayoutError(f"room {r.name} ({x},{y}): unknown tile {ch!r}")
                edge = x in (0, r.width - 1) or y in (0, r.height - 1)
                if edge and ch not in (WALL, DOOR):
                    raise LayoutError(f"room {r.name} ({x},{y}): the border must be wall or door, not {ch!r}")
                if ch in _CHAR_OF.values():
                    found = [s for s in specials() if s.room == r.name and s.xy == (x, y)]
                    if len(found) != 1 or _CHAR_OF[type(found[0])] != ch:
                        raise LayoutError(f"room {r.name} ({x},{y}): tile {ch!r} needs exactly one matching record")
    for s in specials():
        if room(s.room).tile(s.xy) != _CHAR_OF[type(s)]:
            raise LayoutError(f"{type(s).__name__} at {s.room} {s.xy} sits on tile {room(s.room).tile(s.xy)!r}")
    for d in DOORS:
        if room(d.dest_room).tile(d.dest_xy) != FLOOR:
            raise LayoutError(f"door {d.room} {d.xy} leads onto {d.dest_room} {d.dest_xy}, which is not floor")
    events = [t.event for t in TRIGGERS] + [k.event for n in NPCS for k in n.talks]
    events += [g.event for g in GYMS] + [p.event for p in PICKUPS]
    for e in events + [q for n in NPCS for k in n.talks for q in k.requires] + [q for g in GYMS for q in g.requires]:
        event_bit(e)
    if len(set(events)) != len(events):
        raise LayoutError("an event is set by two different tiles; give each its own event")
    if len(specials()) > 127:
        raise LayoutError("more than 127 special tiles: the ROM numbers them in 7 bits")
    if not is_walkable(START_ROOM, START_XY) or room(BLACKOUT_ROOM).tile(BLACKOUT_XY) != FLOOR:
        raise LayoutError("the start and blackout positions must be floor")
    if len(ENCOUNTERS) != 8:
        raise LayoutError("ENCOUNTERS must have exactly 8 species (picked by 3 random bits)")


def describe_rooms() -> str:
    """Markdown: every room drawn out with what each special tile does (pasted into docs/testworld.md)."""
    out = []
    for r in ROOMS:
        _, name, gx, gy, tw, th = next(m for m in C.MAPS if m[1] == r.name)
        out.append(f"### {r.name} (map {r.map_id}, {r.width}x{r.height} steps; Red map {tw}x{th} at global {gx},{gy};"
                   f" tileset {r.tileset})")
        out.append("")
        out.append("```")
        out.append("   " + "".join(str(x) for x in range(r.width)))
        out += [f"{y:2d} {row}" for y, row in enumerate(r.rows)]
        out.append("```")
        out.append("")
        for s in specials():
            if s.room != r.name:
                continue
            x, y = s.xy
            if isinstance(s, Door):
                what = f"door -> {s.dest_room} ({s.dest_xy[0]},{s.dest_xy[1]})"
            elif isinstance(s, Trigger):
                what = f"trigger: sets {s.event}"
            elif isinstance(s, Npc):
                talks = "; then ".join(
                    k.event + (f" (needs {', '.join(k.requires)})" if k.requires else "") for k in s.talks)
                what = f"NPC {s.name} (face it, press A): sets {talks}"
            elif isinstance(s, Gym):
                what = f"gym: with {', '.join(s.requires)} set, sets {s.event} and badge bit {s.badge_bit}"
            elif isinstance(s, Heal):
                what = "heal: HP = max HP"
            else:
                what = f"pickup (once): {s.item_name} (0x{s.item:02X}) into the bag, +{s.money} money, sets {s.event}"
            out.append(f"- ({x},{y}) {what}")
        for ch, what in ((CUT_TREE, "cut tree: CUT (badge bit BIT_CASCADEBADGE) turns it into floor until the room "
                                    "is re-entered"),
                         (WATER, "water: walkable while surfing (SURF, badge bit BIT_SOULBADGE)"),
                         (BOULDER, "boulder: pushed one step onto floor beyond it while STRENGTH is active "
                                   "(badge bit BIT_RAINBOWBADGE); back in place when the room is re-entered")):
            for x, y in cells_of(r.name, ch):
                out.append(f"- ({x},{y}) {what}")
        if r.name == START_ROOM:
            out.append(f"- start: ({START_XY[0]},{START_XY[1]}) facing down")
        if r.name == BLACKOUT_ROOM:
            out.append(f"- blackout spawn: ({BLACKOUT_XY[0]},{BLACKOUT_XY[1]}) facing down")
        out.append("")
    return "\n".join(out)
