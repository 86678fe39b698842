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
    v  ledge (one way: entered only walking down, as Red's ledges are jumped only southwards)
    R  trainer (stepping onto it starts a trainer battle)   O  a person in the way until an event is set

Each room also carries the Red tileset id the ROM writes to ``CUR_MAP_TILESET`` when it loads.
"""

from __future__ import annotations

import dataclasses
import heapq

from pokerl_fast.game import constants as C

__all__ = [
    "FACING_DOWN", "FACING_UP", "FACING_LEFT", "FACING_RIGHT", "DIRECTIONS",
    "TILESET_REDS_HOUSE_1", "TILESET_REDS_HOUSE_2", "TILESET_DOJO", "STARTER_MOVES",
    "Room", "Door", "Trigger", "Talk", "Npc", "Gym", "Heal", "Pickup", "Species", "Trainer", "Blocker", "World", "TEST",
    "ROOMS", "DOORS", "TRIGGERS", "NPCS", "GYMS", "HEALS", "PICKUPS", "ENCOUNTERS", "TRAINERS", "BLOCKERS",
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
LEDGE, TRAINER, BLOCKER = "vRO"
HM_CHARS = CUT_TREE + WATER + BOULDER
SOLID = frozenset({WALL, NPC, CUT_TREE, WATER, BOULDER, BLOCKER})
LEGEND = "#.,DTNHIG" + HM_CHARS + LEDGE + TRAINER + BLOCKER

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
    """One screen of a Red map. A map larger than a screen is several rooms with the same ``map_name`` and
    their own ``offset``: the ROM writes ``X_COORD``/``Y_COORD`` = the room's (x, y) + offset, so every screen
    of the map has Red's coordinates (and global Kanto position) of its own."""

    name: str  # unique; the Pokemon Red map name (a key of constants.MAP_IDS) unless map_name is given
    rows: tuple[str, ...]
    tileset: int  # Red tileset id, written to CUR_MAP_TILESET when the room loads
    map_name: str | None = None  # the Red map this screen belongs to (default: name)
    offset: tuple[int, int] = (0, 0)  # where the screen's (0, 0) lies in the Red map, in steps

    @property
    def red_map(self) -> str:
        return self.map_name or self.name

    @property
    def map_id(self) -> int:
        return C.MAP_IDS[self.red_map]

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
    """Stepping onto it sets one event flag (every time; only the first changes anything).

    With ``requires``, only once those events are set. With ``warp`` or ``gives_starter`` it acts once, when
    it sets its event: ``gives_starter`` puts the starter in the party (Red's starter ball), ``warp``
    (room, xy) moves the player there (Oak walking you into his lab). ``reload``: the room is loaded again
    afterwards, so people waiting for the event (``Blocker``) step aside at once."""

    room: str
    xy: tuple[int, int]
    event: str
    requires: tuple[str, ...] = ()
    warp: tuple[str, tuple[int, int]] | None = None
    gives_starter: bool = False
    reload: bool = False


@dataclasses.dataclass(frozen=True)
class Trainer:
    """Stepping onto it, while ``event`` is not set and ``requires`` are, starts a trainer battle:
    ``IS_IN_BATTLE`` = 2, ``CUR_OPPONENT`` = ``opponent`` (a Red OPP_* id), the enemy at ``level``, and the
    party mon takes ``damage`` + 0..``spread`` HP (a mon with less HP loses: levels and healing decide it).
    A win sets ``event`` (and badge bit ``badge_bit``); a loss is a blackout, except when ``forgiven`` (Red's
    rival in Oak's lab): then the party is healed, ``event`` is set and the game goes on."""

    room: str
    xy: tuple[int, int]
    name: str
    opponent: int
    level: int
    damage: int
    spread: int  # 0, 1, 3, 7 or 15: the random part's mask
    event: str
    requires: tuple[str, ...] = ()
    badge_bit: int | None = None
    forgiven: bool = False
    mon: str = "SQUIRTLE"  # a red_time world's battle: the trainer's mon (a key of redtime.MONS) at ``level``


@dataclasses.dataclass(frozen=True)
class Blocker:
    """A person standing in the way (solid, drawn as an NPC) until ``event`` is set; then floor (Viridian's
    old man before the Pokedex, Oak's aide)."""

    room: str
    xy: tuple[int, int]
    name: str
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
    """Stepping onto it restores the party's HP to max. With ``spawn`` (room, xy) it is also the last heal
    point, as a Pokemon Center is in Red: a blackout puts the player there and ``LAST_BLACKOUT_MAP`` holds
    its map."""

    room: str
    xy: tuple[int, int]
    spawn: tuple[str, tuple[int, int]] | None = None


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
        "#........D",
        "#........#",
        "######D###",
    ), C.TILESET_OVERWORLD),
    # The end of the game in miniature: the champion (a trainer battle), then Oak steps aside (a person in the way
    # until EVENT_BEAT_CHAMPION_RIVAL) and the door north leads into the Hall of Fame, where the game ends.
    Room("CHAMPIONS_ROOM", (
        "###D###",
        "#..O..#",
        "#..R..#",
        "#.....#",
        "D.....#",
        "#######",
    ), C.TILESET_GYM),
    Room("HALL_OF_FAME", (
        "##########",
        "#........#",
        "#........#",
        "#####D####",
    ), C.TILESET_GYM),
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
    Door("ROUTE_2", (9, 6), "CHAMPIONS_ROOM", (1, 4)),
    Door("CHAMPIONS_ROOM", (0, 4), "ROUTE_2", (8, 6)),
    Door("CHAMPIONS_ROOM", (3, 0), "HALL_OF_FAME", (5, 2)),
    Door("HALL_OF_FAME", (5, 3), "CHAMPIONS_ROOM", (2, 1)),
)

TRAINERS: tuple[Trainer, ...] = (
    Trainer("CHAMPIONS_ROOM", (3, 2), "CHAMPION", C.OPP_RIVAL3, 5, 4, 3, "EVENT_BEAT_CHAMPION_RIVAL"),
)

BLOCKERS: tuple[Blocker, ...] = (Blocker("CHAMPIONS_ROOM", (3, 1), "OAK", "EVENT_BEAT_CHAMPION_RIVAL"),)

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


# ------------------------------------------------------------------------------------- worlds
_CHAR_OF = {Door: DOOR, Trigger: TRIGGER, Npc: NPC, Gym: GYM, Heal: HEAL, Pickup: ITEM, Trainer: TRAINER,
            Blocker: BLOCKER}


@dataclasses.dataclass(frozen=True)
class World:
    """A whole layout the ROM builder turns into a ROM: rooms, special tiles, the party and the start.

    ``TEST`` (this module's records) is the small test world every unit test uses; ``bench.BENCH`` is the
    benchmark world with the early game's long quests. The functions of this module answer for ``TEST``."""

    name: str
    title: str  # the cartridge title (never "POKEMON RED": PyBoy must not attach its Red wrapper)
    rooms: tuple[Room, ...]
    doors: tuple[Door, ...]
    triggers: tuple[Trigger, ...]
    npcs: tuple[Npc, ...]
    gyms: tuple[Gym, ...]
    heals: tuple[Heal, ...]
    pickups: tuple[Pickup, ...]
    encounters: tuple[Species, ...]
    start_room: str
    start_xy: tuple[int, int]
    blackout_room: str
    blackout_xy: tuple[int, int]
    trainers: tuple[Trainer, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    start_facing: int = FACING_DOWN
    starter: Species = Species("CHARMANDER", 0xB0, 4)
    starter_level: int = 5
    starter_max_hp: int = 20
    starter_moves: tuple[int, int, int, int] = (0x0A, 0x2D, 0, 0)  # SCRATCH, GROWL: Charmander's level-5 moves
    start_money: int = 3000
    party_at_boot: bool = True  # False: the party is empty until a Trigger with gives_starter
    can_flee: bool = False  # B in a wild battle runs away (the enemy keeps its HP, nothing is gained)
    wild_levels: tuple[int, int] = (2, 3)  # enemy level = base + 0..mask (mask 0, 1, 3 or 7)
    red_time: bool = False  # Red's text, YES/NO, naming screen and menu battles (redtime.py) instead of the short ones
    speeches: tuple[tuple[str, tuple[int, ...]], ...] = ()  # red_time: (event or HEAL/TALK/ITEM/..., text boxes)
    battery_save: bool = False  # Red's cartridge RAM, SAVE in the start menu, the main menu and CONTINUE (savegame.py)

    def speech_table(self) -> dict[str, tuple[int, ...]]:
        """The world's speeches by key, with a one-box default for talking, healing and items."""
        out = {"TALK": (24,), "HEAL": (30, 30), "ITEM": (20,), "STARTER_RECEIVED": (28,), "NICKNAME_ASK": (35,)}
        if self.battery_save:  # "Would you like to SAVE the game?"; "Now saving...", a pause, "RED saved the game!"
            out.update({"SAVE_ASK": (31,), "SAVED": (0x80 | 13, 0xC0 | 7, 18)})
        out.update(dict(self.speeches))
        return out

    # ---- queries
    def room(self, name: str) -> Room:
        """The room named ``name``."""
        for r in self.rooms:
            if r.name == name:
                return r
        raise LayoutError(f"no {self.name} room named {name!r}; rooms are {sorted(r.name for r in self.rooms)}")

    def room_of_map(self, map_id: int) -> Room:
        """The (first) room whose Red map id is ``map_id``."""
        for r in self.rooms:
            if r.map_id == map_id:
                return r
        raise LayoutError(f"map id {map_id} is not a {self.name} room; rooms use {[r.map_id for r in self.rooms]}")

    def room_at(self, map_id: int, xy: tuple[int, int]) -> tuple[Room, tuple[int, int]]:
        """The room and the room-local (x, y) of Red map coordinates ``xy`` on map ``map_id``."""
        for r in self.rooms:
            ox, oy = r.offset
            if r.map_id == map_id and 0 <= xy[0] - ox < r.width and 0 <= xy[1] - oy < r.height:
                return r, (xy[0] - ox, xy[1] - oy)
        raise LayoutError(f"({xy[0]},{xy[1]}) on map {map_id} is in no {self.name} room")

    def specials(self) -> tuple:
        """Every special tile in the fixed order the ROM numbers them."""
        return (self.doors + self.triggers + self.npcs + self.gyms + self.heals + self.pickups + self.trainers
                + self.blockers)

    def special_at(self, room_name: str, xy: tuple[int, int]):
        """The special record at a position, or None."""
        for sp in self.specials():
            if sp.room == room_name and sp.xy == tuple(xy):
                return sp
        return None

    def is_walkable(self, room_name: str, xy: tuple[int, int]) -> bool:
        return self.room(room_name).tile(xy) not in SOLID

    def cells_of(self, room_name: str, char: str) -> list[tuple[int, int]]:
        """Every ``(x, y)`` of a room whose legend character is ``char`` (row by row)."""
        r = self.room(room_name)
        return [(x, y) for y, row in enumerate(r.rows) for x, ch in enumerate(row) if ch == char]

    def events(self) -> list[str]:
        """Every event a tile sets."""
        out = [t.event for t in self.triggers] + [k.event for n in self.npcs for k in n.talks]
        out += [g.event for g in self.gyms] + [p.event for p in self.pickups] + [t.event for t in self.trainers]
        return out

    def find_path(self, start_room: str, start_xy: tuple[int, int], goal_room: str, goal_xy: tuple[int, int],
                  avoid_grass: int = 20, avoid_special: int = 60, passable=(), opened_by=()) -> list[str]:
        """Cheapest d-pad presses from one position to another, through doors.

        Each step costs 1, a grass step ``avoid_grass`` and a step onto a special tile (trigger, trainer, heal,
        pickup, gym) ``avoid_special`` unless it is the goal, so scripted walks avoid side effects.
        The goal may be any walkable tile, including a door (the path then ends by walking onto it).
        Ledges are entered only walking down. Cut trees, water, boulders and people in the way are solid,
        except the ``(room, (x, y))`` cells in ``passable`` (a tree already cut, water while surfing, a
        boulder moved away) and the blockers whose event is in ``opened_by``. Raises LayoutError when there
        is no path.
        """
        opened = {(rn, tuple(xy)) for rn, xy in passable}
        opened |= {(b.room, b.xy) for b in self.blockers if b.event in set(opened_by)}
        start, goal = (start_room, tuple(start_xy)), (goal_room, tuple(goal_xy))
        doors = {(d.room, d.xy): (d.dest_room, d.dest_xy) for d in self.doors}
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
            r = self.room(rname)
            for name, (dx, dy, _) in DIRECTIONS.items():
                nxy = (x + dx, y + dy)
                ch = r.tile(nxy)
                if ch in SOLID and (rname, nxy) not in opened:
                    continue
                if ch == LEDGE and name != "down":
                    continue
                step = 1
                if ch == GRASS:
                    step = avoid_grass
                elif ch in (TRIGGER, TRAINER, HEAL, ITEM, GYM) and (rname, nxy) != goal:
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

    def validate(self) -> None:
        """Check the layout is consistent; raises LayoutError saying what to fix."""
        if self.battery_save and not self.red_time:
            raise LayoutError(f"{self.name}: battery_save needs red_time (the SAVE speech and its YES/NO)")
        maps = {m[1]: m for m in C.MAPS}
        names = [r.name for r in self.rooms]
        if len(set(names)) != len(names):
            raise LayoutError(f"room names repeat: {names}; give each screen its own name")
        screens: dict[str, list[Room]] = {}
        for r in self.rooms:
            if r.red_map not in maps:
                raise LayoutError(f"room {r.name!r}: {r.red_map!r} is not a map with a Kanto global position (constants.MAPS)")
            _, _, _, _, tile_w, tile_h = maps[r.red_map]
            if not 0 <= r.tileset < RED_TILESETS:
                raise LayoutError(f"room {r.name}: tileset {r.tileset} is not a Red tileset id (0..{RED_TILESETS - 1})")
            if any(len(row) != r.width for row in r.rows):
                raise LayoutError(f"room {r.name}: rows have different lengths")
            ox, oy = r.offset
            if (ox < 0 or oy < 0 or r.width + ox > tile_w or r.height + oy > tile_h
                    or r.width > SCREEN_STEPS_W or r.height > SCREEN_STEPS_H):
                raise LayoutError(
                    f"room {r.name} is {r.width}x{r.height} steps at {r.offset}; it must fit the map "
                    f"({tile_w}x{tile_h}) and the screen ({SCREEN_STEPS_W}x{SCREEN_STEPS_H})")
            for other in screens.setdefault(r.red_map, []):
                (ax, ay), (bx, by) = r.offset, other.offset
                if ax < bx + other.width and bx < ax + r.width and ay < by + other.height and by < ay + r.height:
                    raise LayoutError(f"rooms {other.name} and {r.name} overlap on map {r.red_map}")
            screens[r.red_map].append(r)
            for y, row in enumerate(r.rows):
                for x, ch in enumerate(row):
                    if ch not in LEGEND:
                        raise LayoutError(f"room {r.name} ({x},{y}): unknown tile {ch!r}")
                    edge = x in (0, r.width - 1) or y in (0, r.height - 1)
                    if edge and ch not in (WALL, DOOR):
                        raise LayoutError(f"room {r.name} ({x},{y}): the border must be wall or door, not {ch!r}")
                    if ch in _CHAR_OF.values():
                        found = [sp for sp in self.specials() if sp.room == r.name and sp.xy == (x, y)]
                        if len(found) != 1 or _CHAR_OF[type(found[0])] != ch:
                            raise LayoutError(f"room {r.name} ({x},{y}): tile {ch!r} needs exactly one matching record")
        for sp in self.specials():
            if self.room(sp.room).tile(sp.xy) != _CHAR_OF[type(sp)]:
                raise LayoutError(f"{type(sp).__name__} at {sp.room} {sp.xy} sits on tile {self.room(sp.room).tile(sp.xy)!r}")
        targets = [(d.dest_room, d.dest_xy, f"door {d.room} {d.xy}") for d in self.doors]
        targets += [(t.warp[0], t.warp[1], f"trigger {t.room} {t.xy}") for t in self.triggers if t.warp]
        targets += [(h.spawn[0], h.spawn[1], f"heal {h.room} {h.xy}") for h in self.heals if h.spawn]
        for room_name, xy, what in targets:
            if self.room(room_name).tile(xy) != FLOOR:
                raise LayoutError(f"{what} leads onto {room_name} {xy}, which is not floor")
        events = self.events()
        needed = [q for n in self.npcs for k in n.talks for q in k.requires] + [q for g in self.gyms for q in g.requires]
        needed += [q for t in self.triggers + self.trainers for q in t.requires] + [b.event for b in self.blockers]
        for e in events + needed:
            event_bit(e)
        if len(set(events)) != len(events):
            raise LayoutError("an event is set by two different tiles; give each its own event")
        if len(self.specials()) > 254:
            raise LayoutError("more than 254 special tiles: the ROM numbers them in one byte")
        if not self.is_walkable(self.start_room, self.start_xy) or self.room(self.blackout_room).tile(self.blackout_xy) != FLOOR:
            raise LayoutError("the start and blackout positions must be floor")
        if len(self.encounters) != 8:
            raise LayoutError("encounters must be exactly 8 species (picked by 3 random bits)")
        if any(t.spread not in (0, 1, 3, 7, 15) for t in self.trainers) or self.wild_levels[1] not in (0, 1, 3, 7):
            raise LayoutError("a trainer's spread and the wild level mask must be 2**k - 1")
        if not self.party_at_boot and not any(t.gives_starter for t in self.triggers):
            raise LayoutError("an empty party at boot needs a trigger with gives_starter")

    def describe_rooms(self) -> str:
        """Markdown: every room drawn out with what each special tile does (pasted into the world's docs)."""
        out = []
        for r in self.rooms:
            _, name, gx, gy, tw, th = next(m for m in C.MAPS if m[1] == r.red_map)
            where = f"; screen at ({r.offset[0]},{r.offset[1]}) of it" if r.red_map != r.name else ""
            out.append(f"### {r.name} (map {r.map_id} {r.red_map}, {r.width}x{r.height} steps; Red map {tw}x{th} "
                       f"at global {gx},{gy}{where}; tileset {r.tileset})")
            out.append("")
            out.append("```")
            out.append("   " + "".join(str(x % 10) for x in range(r.width)))
            out += [f"{y:2d} {row}" for y, row in enumerate(r.rows)]
            out.append("```")
            out.append("")
            for sp in self.specials():
                if sp.room == r.name:
                    out.append(f"- ({sp.xy[0]},{sp.xy[1]}) {_describe(sp, self.red_time)}")
            for ch, what in ((CUT_TREE, "cut tree: CUT (badge bit BIT_CASCADEBADGE) turns it into floor until the room "
                                        "is re-entered"),
                             (WATER, "water: walkable while surfing (SURF, badge bit BIT_SOULBADGE)"),
                             (BOULDER, "boulder: pushed one step onto floor beyond it while STRENGTH is active "
                                       "(badge bit BIT_RAINBOWBADGE); back in place when the room is re-entered")):
                for x, y in self.cells_of(r.name, ch):
                    out.append(f"- ({x},{y}) {what}")
            if r.name == self.start_room:
                out.append(f"- start: ({self.start_xy[0]},{self.start_xy[1]}) facing down")
            if r.name == self.blackout_room:
                out.append(f"- blackout spawn: ({self.blackout_xy[0]},{self.blackout_xy[1]}) facing down")
            out.append("")
        return "\n".join(out)


def _needs(requires) -> str:
    return f" (needs {', '.join(requires)})" if requires else ""


def _describe(sp, red_time: bool = False) -> str:
    if isinstance(sp, Door):
        return f"door -> {sp.dest_room} ({sp.dest_xy[0]},{sp.dest_xy[1]})"
    if isinstance(sp, Trigger):
        what = f"trigger: sets {sp.event}{_needs(sp.requires)}"
        if sp.gives_starter:
            what += ", gives the starter"
        if sp.warp:
            what += f", then warps to {sp.warp[0]} ({sp.warp[1][0]},{sp.warp[1][1]}) (once)"
        return what
    if isinstance(sp, Npc):
        talks = "; then ".join(k.event + _needs(k.requires) for k in sp.talks)
        return f"NPC {sp.name} (face it, press A): sets {talks}"
    if isinstance(sp, Gym):
        return f"gym: with {', '.join(sp.requires)} set, sets {sp.event} and badge bit {sp.badge_bit}"
    if isinstance(sp, Heal):
        spawn = f"; the last heal point: a blackout lands at {sp.spawn[0]} {sp.spawn[1]}" if sp.spawn else ""
        return f"heal: HP = max HP{spawn}"
    if isinstance(sp, Pickup):
        return f"pickup (once): {sp.item_name} (0x{sp.item:02X}) into the bag, +{sp.money} money, sets {sp.event}"
    if isinstance(sp, Trainer):
        badge = f" and badge bit {sp.badge_bit}" if sp.badge_bit is not None else ""
        lost = "a loss is forgiven (healed, event set)" if sp.forgiven else "a loss is a blackout"
        if red_time:
            return (f"trainer {sp.name} (opponent {sp.opponent}){_needs(sp.requires)}: speaks, then a battle "
                    f"against {sp.mon} level {sp.level}; a win sets {sp.event}{badge}; {lost}")
        return (f"trainer {sp.name} (opponent {sp.opponent}, level {sp.level}){_needs(sp.requires)}: damage "
                f"{sp.damage}+0..{sp.spread}; a win sets {sp.event}{badge}; {lost}")
    return f"{sp.name} stands here until {sp.event} is set"


TEST = World(
    name="test world", title="PKRL TESTWORLD", rooms=ROOMS, doors=DOORS, triggers=TRIGGERS, npcs=NPCS, gyms=GYMS,
    heals=HEALS, pickups=PICKUPS, encounters=ENCOUNTERS, start_room=START_ROOM, start_xy=START_XY,
    blackout_room=BLACKOUT_ROOM, blackout_xy=BLACKOUT_XY, start_facing=START_FACING, starter=STARTER,
    starter_level=STARTER_LEVEL, starter_max_hp=STARTER_MAX_HP, starter_moves=STARTER_MOVES,
    start_money=START_MONEY, trainers=TRAINERS, blockers=BLOCKERS,
)
"""The test world: the records above."""

room = TEST.room
room_of_map = TEST.room_of_map
specials = TEST.specials
special_at = TEST.special_at
is_walkable = TEST.is_walkable
cells_of = TEST.cells_of
find_path = TEST.find_path
validate = TEST.validate
describe_rooms = TEST.describe_rooms


def event_bit(name: str) -> tuple[int, int]:
    """(address, bit) of an event flag name from constants.EVENT_FLAGS_BY_NAME."""
    try:
        return C.EVENT_FLAGS_BY_NAME[name]
    except KeyError:
        raise LayoutError(f"unknown event {name!r}: use a name from constants.EVENT_FLAGS_BY_NAME") from None
