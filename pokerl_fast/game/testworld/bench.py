"""The benchmark world: the early game's long quests on Red's maps, built by the same ROM builder.

The test world (``layout.TEST``) is a few rooms long: every quest in it is a few steps away, so it cannot tell
a mechanism that wins the early game from one that does not. This world keeps Red's structure and its order of
magnitude of distances:

bedroom -> Pallet Town (Oak stops you on the way out and walks you into his lab) -> Oak asks you to choose ->
the starter ball (the party is empty until then) -> the rival's battle on the way out (a loss is forgiven, as in
Red) -> Route 1 (four screens of grass with wild battles and one-way ledges) -> Viridian City, whose Mart hands
over Oak's parcel (the old man blocks the way north until you have the Pokedex) -> back to Oak in Pallet Town:
the parcel, then the Pokedex -> Route 2 -> Viridian Forest (a four-screen maze of grass) -> Pewter City, its
Pokemon Center (the last heal point) and the gym, whose leader Brock's level-10 ONIX (Red's defense 160) needs a
starter of about level 14 (SCRATCH alone) or 12 (GROWL twice first).

With ``red_time`` the world has Red's time between events (redtime.py): every event comes after a speech of Red's
length, the starter after a YES/NO and the nickname prompt, and battles are fought through Red's menus.

Maps larger than a screen are several rooms with their own offset in the Red map, so X_COORD/Y_COORD and the
global Kanto position differ on every screen. See ``docs/benchworld.md`` (maps, the random floor).
"""

from __future__ import annotations

import dataclasses

from pokerl_fast.game import constants as C
from pokerl_fast.game.testworld.redtime import pause
from pokerl_fast.game.testworld.layout import (
    ENCOUNTERS,
    TILESET_DOJO,
    TILESET_REDS_HOUSE_1,
    Blocker,
    Door,
    Heal,
    Npc,
    Pickup,
    Room,
    Talk,
    Trainer,
    Trigger,
    World,
    room,
)

__all__ = ["BENCH", "MILESTONE_SPOTS", "link_vertical", "link_horizontal"]

OUT = C.TILESET_OVERWORLD
FOREST = 3  # Red's FOREST tileset
POKECENTER = 6  # Red's POKECENTER tileset
MART = 2  # Red's MART tileset

POKECENTER_ROWS = (  # the nurse's heal tile at (4, 1), the door at (4, 7)
    "##########",
    "#...H....#",
    "#........#",
    "#........#",
    "#........#",
    "#........#",
    "#........#",
    "####D#####",
)

ROOMS = (
    room("REDS_HOUSE_2F"),  # the bedroom and the ground floor as in the test world
    room("REDS_HOUSE_1F"),
    Room("PALLET_S", (
        "####DD####",
        "#........#",
        "#.###....#",
        "#.#D#.####",
        "#.....#D.#",
        "#.###....#",
        "#.#D#....#",
        "#........#",
        "##########",
    ), OUT, "PALLET_TOWN", (5, 9)),
    Room("PALLET_N", (  # the only way north passes Oak's trigger
        "####D#####",
        "####.#####",
        "####T#####",
        "#........#",
        "#.##..##.#",
        "#........#",
        "#.#....#.#",
        "#........#",
        "####DD####",
    ), OUT, "PALLET_TOWN", (5, 0)),
    Room("BLUES_HOUSE", (
        "########",
        "#......#",
        "#.##...#",
        "#.##...#",
        "#......#",
        "#......#",
        "#......#",
        "###D####",
    ), TILESET_REDS_HOUSE_1),
    Room("OAKS_LAB", (
        "##########",
        "#...N....#",
        "#.....T..#",
        "#...T....#",
        "#........#",
        "####O#####",
        "####R#####",
        "#........#",
        "####D#####",
    ), TILESET_DOJO, None, (0, 3)),
    Room("ROUTE_1_A", (
        "##DD######",
        "#...,,,..#",
        "#..,,,,..#",
        "#vvvvvv..#",
        "#........#",
        "#,,,,....#",
        "#,,,,.##.#",
        "#........#",
        "####D#####",
    ), OUT, "ROUTE_1", (5, 27)),
    Room("ROUTE_1_B", (
        "######DD##",
        "#....,...#",
        "#,,,,....#",
        "#,,,,.vvv#",
        "#....#...#",
        "#.##.#.,.#",
        "#.,,...,.#",
        "#...,,...#",
        "##DD######",
    ), OUT, "ROUTE_1", (5, 18)),
    Room("ROUTE_1_C", (
        "#DD#######",
        "#...,,,,.#",
        "#vvvv,,,.#",
        "#....,,,.#",
        "#.#####..#",
        "#...,,,..#",
        "#.vvvvvvv#",
        "#.......,#",
        "######DD##",
    ), OUT, "ROUTE_1", (5, 9)),
    Room("ROUTE_1_D", (
        "#####DD###",
        "#,,,,..,,#",
        "#,,,.....#",
        "#.vvvvvv.#",
        "#.,,,,,,.#",
        "#.######.#",
        "#......,.#",
        "#..,,,...#",
        "#DD#######",
    ), OUT, "ROUTE_1", (5, 0)),
    Room("VIRIDIAN_S", (
        "####DD####",
        "#........#",
        "#.###....#",
        "#.#D#.##.#",
        "#........#",
        "#.##..##.#",
        "#........#",
        "#........#",
        "#####DD###",
    ), OUT, "VIRIDIAN_CITY", (15, 27)),
    Room("VIRIDIAN_N", (
        "######D###",
        "######.###",
        "#.....O..#",
        "D........#",
        "#.###....#",
        "#.#D#....#",
        "#........#",
        "#........#",
        "####DD####",
    ), OUT, "VIRIDIAN_CITY", (15, 18)),
    Room("VIRIDIAN_POKECENTER", POKECENTER_ROWS, POKECENTER, None, (2, 0)),
    Room("VIRIDIAN_MART", (  # the parcel one step in: Red's clerk calls you and walks you to the counter
        "########",
        "#......#",
        "#......#",
        "#......#",
        "#......#",
        "#..I...#",
        "#......#",
        "###D####",
    ), MART),
    Room("ROUTE_22", (  # a dead end west of Viridian: grass and nothing to do
        "##########",
        "#,,,,,,..#",
        "#,,,,,,..#",
        "#..,,,...#",
        "#........D",
        "#,,,,....#",
        "#,,,,,,..#",
        "#,,,,,,,.#",
        "##########",
    ), OUT, None, (30, 9)),
    Room("ROUTE_2_S", (
        "##DD######",
        "#...,,,..#",
        "#.,,,,,..#",
        "#.vvvv...#",
        "#.....,,.#",
        "#.,,,,,,.#",
        "#........#",
        "#........#",
        "######D###",
    ), OUT, "ROUTE_2", (5, 63)),
    Room("FOREST_A", (
        "##########",
        "#,,,,#,,,#",
        "#,##,#,#,#",
        "D.,#,,,#,#",
        "####,###,#",
        "#,,,,#,,,#",
        "#,##,#,###",
        "#...,,,..#",
        "##DD######",
    ), FOREST, "VIRIDIAN_FOREST", (24, 39)),
    Room("FOREST_B", (
        "##DD######",
        "#...,,#,,#",
        "#,#####,,#",
        "#,,,,#,..D",
        "####,#,###",
        "#,,,,,,,,#",
        "#,######,#",
        "#,,,,,,,,#",
        "##########",
    ), FOREST, "VIRIDIAN_FOREST", (14, 39)),
    Room("FOREST_C", (
        "#######DD#",
        "#,,,,,#..#",
        "#,###,#,,#",
        "#,#,,,#,##",
        "#,#,###,,#",
        "#,,,#,,,,#",
        "###,#,####",
        "#...,,,..#",
        "##DD######",
    ), FOREST, "VIRIDIAN_FOREST", (14, 30)),
    Room("FOREST_D", (
        "###DD#####",
        "#....,,#,#",
        "#,####,#,#",
        "#,,,,#,#,#",
        "####,#,#,#",
        "#,,,,#,,,#",
        "#,######,#",
        "#,,,,,,..#",
        "#######DD#",
    ), FOREST, "VIRIDIAN_FOREST", (14, 21)),
    Room("ROUTE_2_N", (
        "####DD####",
        "#........#",
        "#.,,,,,..#",
        "#.,,,,,..#",
        "#vvvv.vvv#",
        "#........#",
        "#..,,,...#",
        "#........#",
        "###DD#####",
    ), OUT, "ROUTE_2", (5, 0)),
    Room("PEWTER_S", (
        "##DD######",
        "#........#",
        "#.###..###",
        "#.#D#....#",
        "#........#",
        "#.##..##.#",
        "#........#",
        "#........#",
        "####DD####",
    ), OUT, "PEWTER_CITY", (15, 27)),
    Room("PEWTER_N", (
        "##########",
        "#........#",
        "#.#####..#",
        "#.##D##..#",
        "#........#",
        "#.##.##..#",
        "#........#",
        "#........#",
        "##DD######",
    ), OUT, "PEWTER_CITY", (15, 18)),
    Room("PEWTER_POKECENTER", POKECENTER_ROWS, POKECENTER, None, (2, 0)),
    Room("PEWTER_GYM", (
        "##########",
        "#...R....#",
        "#........#",
        "#.##..##.#",
        "#........#",
        "#.##..##.#",
        "#........#",
        "#........#",
        "####D#####",
    ), C.TILESET_GYM, None, (0, 5)),
)

def _thin_grass(room: Room, keep: int = 4) -> Room:
    """The room with grass on one cell in ``keep`` along its paths (the others floor): the forest's maze
    stays a maze without a battle on every other step."""
    rows = tuple("".join("." if ch == "," and (x + 2 * y) % keep else ch for x, ch in enumerate(row))
                 for y, row in enumerate(room.rows))
    return Room(room.name, rows, room.tileset, room.map_name, room.offset)


ROOMS = tuple(_thin_grass(r) if r.name.startswith("FOREST_") else r for r in ROOMS)
_BY_NAME = {r.name: r for r in ROOMS}


def door_pair(a: str, a_xy, b: str, b_xy) -> tuple[Door, Door]:
    """Doors both ways between two door tiles: each lands one step inside the other room (towards its middle)."""
    def inside(room: str, xy):
        r = _BY_NAME[room]
        x, y = xy
        if y == 0:
            return (x, 1)
        if y == r.height - 1:
            return (x, y - 1)
        if x == 0:
            return (1, y)
        if x == r.width - 1:
            return (x - 1, y)
        return (x, y + 1)  # a building's door inside a town: step out below it
    return Door(a, a_xy, b, inside(b, b_xy)), Door(b, b_xy, a, inside(a, a_xy))


def link_vertical(south: str, north: str, columns: tuple[int, ...], north_columns: tuple[int, ...] | None = None):
    """The top-border doors of ``south`` at ``columns`` and the bottom-border doors of ``north``, both ways."""
    north_columns = north_columns or columns
    h = _BY_NAME[north].height
    return tuple(d for cs, cn in zip(columns, north_columns) for d in door_pair(south, (cs, 0), north, (cn, h - 1)))


def link_horizontal(west: str, east: str, row_west: int, row_east: int):
    """A door on the right border of ``west`` and one on the left border of ``east``, both ways."""
    w = _BY_NAME[west].width
    return door_pair(west, (w - 1, row_west), east, (0, row_east))


def _building(town: str, town_xy, room: str):
    """A building's door in a town and its door on the building's bottom border."""
    r = _BY_NAME[room]
    bottom = r.rows[-1].index("D")
    out_of_building = Door(room, (bottom, r.height - 1), town, (town_xy[0], town_xy[1] + 1))
    into_building = Door(town, town_xy, room, (bottom, r.height - 2))
    return into_building, out_of_building


DOORS = (
    Door("REDS_HOUSE_2F", (4, 0), "REDS_HOUSE_1F", (6, 1)),
    Door("REDS_HOUSE_1F", (6, 0), "REDS_HOUSE_2F", (4, 1)),
    *_building("PALLET_S", (3, 6), "REDS_HOUSE_1F"),
    *_building("PALLET_S", (3, 3), "BLUES_HOUSE"),
    *_building("PALLET_S", (7, 4), "OAKS_LAB"),
    *link_vertical("PALLET_S", "PALLET_N", (4, 5)),
    *link_vertical("PALLET_N", "ROUTE_1_A", (4,)),
    *link_vertical("ROUTE_1_A", "ROUTE_1_B", (2, 3)),
    *link_vertical("ROUTE_1_B", "ROUTE_1_C", (6, 7)),
    *link_vertical("ROUTE_1_C", "ROUTE_1_D", (1, 2)),
    *link_vertical("ROUTE_1_D", "VIRIDIAN_S", (5, 6)),
    *_building("VIRIDIAN_S", (3, 3), "VIRIDIAN_POKECENTER"),
    *link_vertical("VIRIDIAN_S", "VIRIDIAN_N", (4, 5)),
    *_building("VIRIDIAN_N", (3, 5), "VIRIDIAN_MART"),
    *link_horizontal("ROUTE_22", "VIRIDIAN_N", 4, 3),
    *link_vertical("VIRIDIAN_N", "ROUTE_2_S", (6,)),
    *link_vertical("ROUTE_2_S", "FOREST_A", (2, 3)),
    *link_horizontal("FOREST_B", "FOREST_A", 3, 3),
    *link_vertical("FOREST_B", "FOREST_C", (2, 3)),
    *link_vertical("FOREST_C", "FOREST_D", (7, 8)),
    *link_vertical("FOREST_D", "ROUTE_2_N", (3, 4)),
    *link_vertical("ROUTE_2_N", "PEWTER_S", (4, 5)),
    *_building("PEWTER_S", (3, 3), "PEWTER_POKECENTER"),
    *link_vertical("PEWTER_S", "PEWTER_N", (2, 3)),
    *_building("PEWTER_N", (4, 3), "PEWTER_GYM"),
)

TRIGGERS = (
    # Oak stops you on the way out of Pallet Town and walks you into his lab.
    Trigger("PALLET_N", (4, 2), "EVENT_FOLLOWED_OAK_INTO_LAB", warp=("OAKS_LAB", (4, 4))),
    Trigger("OAKS_LAB", (4, 3), "EVENT_FOLLOWED_OAK_INTO_LAB_2", requires=("EVENT_FOLLOWED_OAK_INTO_LAB",)),
    # The starter ball: only once Oak has asked; the aide at the door then steps aside.
    Trigger("OAKS_LAB", (6, 2), "EVENT_GOT_STARTER", requires=("EVENT_OAK_ASKED_TO_CHOOSE_MON",),
            gives_starter=True, reload=True),
)

NPCS = (
    Npc("OAKS_LAB", (4, 1), "OAK", (
        Talk("EVENT_OAK_ASKED_TO_CHOOSE_MON", ("EVENT_FOLLOWED_OAK_INTO_LAB_2",)),
        Talk("EVENT_OAK_GOT_PARCEL", ("EVENT_GOT_OAKS_PARCEL",)),
        Talk("EVENT_GOT_POKEDEX", ("EVENT_OAK_GOT_PARCEL",)),
    )),
)

TRAINERS = (
    # Red's rival in the lab, his SQUIRTLE at level 5: the starter wins about 9 times in 10 with SCRATCH alone;
    # either way the party is healed and the game goes on. (damage/spread: the one-press battles of worlds
    # without red_time.)
    Trainer("OAKS_LAB", (4, 6), "RIVAL", C.OPP_RIVAL1, 5, 14, 7, "EVENT_BATTLED_RIVAL_IN_OAKS_LAB",
            requires=("EVENT_GOT_STARTER",), forgiven=True, mon="SQUIRTLE"),
    # Brock's ONIX at level 10: SCRATCH alone wins 85% of the time at level 14 and always at 16 (redtime's twins).
    Trainer("PEWTER_GYM", (4, 1), "BROCK", C.OPP_BROCK, 10, 52, 3, "EVENT_BEAT_BROCK", badge_bit=C.BIT_BOULDERBADGE,
            mon="ONIX"),
)

BLOCKERS = (
    Blocker("OAKS_LAB", (4, 5), "OAKS_AIDE", "EVENT_GOT_STARTER"),  # no leaving the lab without a mon
    Blocker("VIRIDIAN_N", (6, 2), "OLD_MAN", "EVENT_GOT_POKEDEX"),  # the way north opens with the Pokedex
)

HEALS = (
    Heal("REDS_HOUSE_1F", (1, 4), spawn=("REDS_HOUSE_1F", (3, 4))),
    Heal("VIRIDIAN_POKECENTER", (4, 1), spawn=("VIRIDIAN_POKECENTER", (4, 4))),
    Heal("PEWTER_POKECENTER", (4, 1), spawn=("PEWTER_POKECENTER", (4, 4))),
)

# Red's ViridianMart script runs as you enter: the clerk calls you, walks you to the counter and hands over the
# parcel (pret/pokered scripts/ViridianMart.asm); here the first step into the Mart does.
PICKUPS = (Pickup("VIRIDIAN_MART", (3, 5), 0x46, "OAKS_PARCEL", 0, "EVENT_GOT_OAKS_PARCEL"),)

# Red's words, box by box (letters per box; A or B answers each prompt), and its cut scenes as pauses of 16-frame
# steps, from pret/pokered's text and scripts for these events (lengths only: no text is copied).
P = pause
SPEECHES = (
    # Pallet Town: "Hey! Wait! Don't go out!", Oak walks up, tall grass, "come with me!", the walk to the lab.
    ("EVENT_FOLLOWED_OAK_INTO_LAB", (28, P(5), 27, 25, 25, 31, 20, P(15), P(15), P(5))),
    # The lab: the rival's impatience, Oak's three POKéMON, "Choose!", "What about me?", "Be patient!".
    ("EVENT_FOLLOWED_OAK_INTO_LAB_2", (13, 24, 17, 26, 23, 11, 24, 14, 28, 24, 26, 26, 30, 7, 12, 20, 19, 28)),
    ("EVENT_OAK_ASKED_TO_CHOOSE_MON", (22, 19)),
    # The ball: "So! You want the fire POKéMON, CHARMANDER?" then YES/NO.
    ("EVENT_GOT_STARTER", (20, 26)),
    # "This POKéMON is really energetic!", "RED received a CHARMANDER!" and its jingle; the rival takes his.
    ("STARTER_RECEIVED", (34, 26, P(4), P(4), 29, 25, P(4))),
    ("NICKNAME_ASK", (28, 16)),
    # On the way out: "Wait RED! Let's check out our POKéMON!", the rival walks over.
    ("EVENT_BATTLED_RIVAL_IN_OAKS_LAB", (17, 30, 23, P(3))),
    # After the battle, won or lost: the rival's words and his walk out.
    ("EVENT_BATTLED_RIVAL_IN_OAKS_LAB:after", (25, 20, 30, 22, 19, 11, P(5))),
    # Viridian Mart: the clerk calls you, walks you to the counter, the parcel and its jingle.
    ("EVENT_GOT_OAKS_PARCEL", (27, P(3), 25, 21, 25, 22, P(3), 18, 14)),
    # Oak and the parcel; then the rival comes in and Oak gives the Pokedex.
    ("EVENT_OAK_GOT_PARCEL", (18, 30, 27, 33, 25, 29, P(3), 30, 26, 13)),
    ("EVENT_GOT_POKEDEX", (14, 31, P(4), 28, 33, 32, 27, 24, 31, P(3), 22, P(3), 29, 33, 30, 31, 22, 27, 19, P(5))),
    # Brock before and after.
    ("EVENT_BEAT_BROCK", (16, 25, 33, 31, 29, 24, 27, 18)),
    ("EVENT_BEAT_BROCK:after", (28, 30, P(4), 25, 33, 31, 28, 30, 22)),
    # A Pokemon Center's nurse (and Mom): welcome, shall we heal, the machine's jingle, "see you again".
    ("HEAL", (30, 25, 30, P(8), 24, 30, 20)),
)

BENCH = World(
    name="benchmark world", title="PKRL BENCHWORLD", rooms=ROOMS, doors=DOORS, triggers=TRIGGERS, npcs=NPCS,
    gyms=(), heals=HEALS, pickups=PICKUPS, encounters=ENCOUNTERS, trainers=TRAINERS, blockers=BLOCKERS,
    start_room="REDS_HOUSE_2F", start_xy=(2, 3), blackout_room="REDS_HOUSE_1F", blackout_xy=(3, 4),
    party_at_boot=False, can_flee=True, red_time=True, speeches=SPEECHES,
)

BENCH_SAVE = dataclasses.replace(BENCH, name="benchmark world with saves", title="PKRL BENCHSAVE", battery_save=True)
"""The benchmark world with Red's battery save (savegame.py): Red's cartridge RAM, SAVE in the start menu, the main
menu and CONTINUE at boot with a save. The learning benchmark (``BENCH``) keeps the start menu's SAVE inert, as every
learning figure in docs/learning.md was measured: a saved cursor on SAVE makes every START, A a 250-frame speech, a
trap that moved the slow learning test's figure (the lab's speech, policy alone, seed 2: 37.5% -> 12.5%); measuring
learning on this world is left for a round of its own."""

MILESTONE_SPOTS = {
    "EVENT_FOLLOWED_OAK_INTO_LAB": ("PALLET_N", (4, 2)),
    "EVENT_FOLLOWED_OAK_INTO_LAB_2": ("OAKS_LAB", (4, 3)),
    "EVENT_OAK_ASKED_TO_CHOOSE_MON": ("OAKS_LAB", (4, 2)),  # face Oak (up) and press A
    "EVENT_GOT_STARTER": ("OAKS_LAB", (6, 2)),
    "EVENT_BATTLED_RIVAL_IN_OAKS_LAB": ("OAKS_LAB", (4, 6)),
    "EVENT_GOT_OAKS_PARCEL": ("VIRIDIAN_MART", (3, 5)),
    "EVENT_OAK_GOT_PARCEL": ("OAKS_LAB", (4, 2)),
    "EVENT_GOT_POKEDEX": ("OAKS_LAB", (4, 2)),
    "EVENT_BEAT_BROCK": ("PEWTER_GYM", (4, 1)),
}
"""Where each milestone of the world is earned (for scripted routes and docs)."""
