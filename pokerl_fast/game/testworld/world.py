"""The test world program: a tiny Pokemon Red at the memory level, assembled from ``layout.py``.

The ROM keeps Red's RAM (constants.py addresses) changing for Red's reasons: position, map, facing,
walking (``WALK_COUNTER``, ``JOY_IGNORE``), event flags, badges, party level/HP, battles, Pokedex bits,
money and bag. The rooms, what every tile does and the timings are documented in ``docs/testworld.md``.

How the program runs
--------------------
* Boot: stack in HRAM (0xFFFE) for good, LCD off, WRAM/VRAM/OAM cleared, tiles and palettes (BGP=OBP0=0xE4)
  loaded, the party/money/bag set, the start room drawn, VBlank interrupt on, then ``READY_ADDR`` is set
  to ``READY_VALUE``.
* Each frame: ``halt`` until the VBlank handler sets a flag, write the player's 4 sprites to OAM, read the
  joypad like Red (A,B,SELECT,START,RIGHT,LEFT,UP,DOWN = bits 0-7), advance a 16-bit LFSR, run one step of
  the state machine (idle, walk, battle intro, battle, battle won, blackout, dialog, start menu, party
  menu, field-move submenu, boulder push), then carry out a pending warp or redraw (LCD off while the
  background map is rewritten). The menu window is redrawn first thing in the frame, inside VBlank.
* Red's HM plumbing at the RAM level: menu cursor/max/saved items, wFieldMoves, wWhichPokemon,
  wWalkBikeSurfState, wStatusFlags1's Strength bit, wCurMapTileset and a player-centred wTileMap mirror.
* Room state lives in private WRAM at 0xDF00-0xDFD9 (Red's stack area; our stack stays in HRAM), so no
  Red symbol the project reads is touched by anything but the game logic.
"""

from __future__ import annotations

from pokerl_fast.game import constants as C
from pokerl_fast.game.testworld import layout as L
from pokerl_fast.game.testworld import redtime as R
from pokerl_fast.game.testworld import savegame as SG
from pokerl_fast.game.testworld.sm83 import CART_MBC3_RAM_BATTERY, Asm

__all__ = [
    "READY_ADDR", "READY_VALUE", "PRIVATE_RAM", "TITLE", "KINDS", "STATES", "MENU_STATES", "TILE_MAP_IDS",
    "WINDOW_TILES", "WALK_FRAMES", "BATTLE_INTRO_FRAMES", "BATTLE_WIN_FRAMES", "BLACKOUT_FRAMES", "DIALOG_FRAMES",
    "NICKNAME_FRAMES",
    "PUSH_FRAMES", "START_MENU_X", "PARTY_MENU_X", "FIELD_MENU_X", "build_rom", "tile_pixels", "window_map",
]

TITLE = "PKRL TESTWORLD"  # not "POKEMON RED": PyBoy must not attach its Red game wrapper

# Private WRAM (Red's stack area 0xDEE2-0xDFFF; the test world's stack stays in HRAM).
PRIVATE_RAM = {
    "wReady": 0xDF00,
    "wRoom": 0xDF01,  # index into layout.ROOMS
    "wState": 0xDF02,
    "wTimer": 0xDF03,
    "wJoyHeld": 0xDF04,
    "wJoyPressed": 0xDF05,
    "wJoyLast": 0xDF06,
    "wVBlankFlag": 0xDF07,
    "wRngLo": 0xDF08,
    "wRngHi": 0xDF09,
    "wWalkDX": 0xDF0A,
    "wWalkDY": 0xDF0B,
    "wWalkFrames": 0xDF0C,
    "wSprX": 0xDF0D,
    "wSprY": 0xDF0E,
    "wWarpPending": 0xDF0F,
    "wWarpRoom": 0xDF10,
    "wWarpX": 0xDF11,
    "wWarpY": 0xDF12,
    "wRedraw": 0xDF13,
    "wEnemyIndex": 0xDF14,
    "wWindowDirty": 0xDF15,  # 1 = redraw the menu window at the next VBlank
    "wPushFrom": 0xDF16,  # boulder push: cell index of the boulder
    "wPushTo": 0xDF17,  # and of the floor it moves onto
    "wViewX": 0xDF18,  # UpdateTileMap: room x of the cell being written
    "wViewY": 0xDF19,  # and its room y
    "wMenuLast": 0xDF1A,  # the open menu's last item index (MAX_MENU_ITEM holds the start menu's item count, as Red)
    "wPosX": 0xDF1B,  # the player's x in the room (X_COORD = wPosX + the room's offset in its Red map)
    "wPosY": 0xDF1C,  # and y
    "wTrainer": 0xDF1D,  # the trainer battle being fought: index into the world's trainers + 1 (0 = wild)
    "wBlackoutRoom": 0xDF1E,  # where a blackout puts the player (the last heal point)
    "wBlackoutX": 0xDF1F,
    "wBlackoutY": 0xDF7A,
    "wRoomKind": 0xDF20,  # 10x9 tile kinds of the current room (VOID outside it)
    "wRoomSpecial": 0xDF80,  # 10x9 special-tile numbers + 1 (0 = none)
}
READY_ADDR = PRIVATE_RAM["wReady"]
READY_VALUE = 0xA5

# Tile kinds as the ROM stores them; kinds >= WALL block the player.
KINDS = {"FLOOR": 0, "GRASS": 1, "DOOR": 2, "TRIGGER": 3, "HEAL": 4, "ITEM": 5, "GYM": 6, "WALL": 7, "NPC": 8,
         "VOID": 9, "CUT_TREE": 10, "WATER": 11, "BOULDER": 12, "LEDGE": 13}
_SOLID_MIN = KINDS["WALL"]
_KIND_OF_CHAR = {
    L.FLOOR: "FLOOR", L.GRASS: "GRASS", L.DOOR: "DOOR", L.TRIGGER: "TRIGGER", L.HEAL: "HEAL",
    L.ITEM: "ITEM", L.GYM: "GYM", L.WALL: "WALL", L.NPC: "NPC",
    L.CUT_TREE: "CUT_TREE", L.WATER: "WATER", L.BOULDER: "BOULDER",
    L.LEDGE: "LEDGE", L.TRAINER: "TRIGGER", L.BLOCKER: "NPC",
}
_BASE_STATES = {"IDLE": 0, "WALK": 1, "BATTLE_INTRO": 2, "BATTLE": 3, "BATTLE_WIN": 4, "BLACKOUT": 5, "DIALOG": 6,
                "START_MENU": 7, "PARTY_MENU": 8, "FIELD_MENU": 9, "PUSH": 10, "NICKNAME": 11}
# Red's time between events (redtime.py), only in a world with ``red_time``: text, YES/NO, naming, battle menus.
# The battery save's main menu (savegame.py), only in a world with ``battery_save``.
STATES = {**_BASE_STATES, **{name: len(_BASE_STATES) + i for i, name in enumerate(R.RED_TIME_STATES + SG.SAVE_STATES)}}
MENU_STATES = ("START_MENU", "PARTY_MENU", "FIELD_MENU")

# wTileMap mirror (Red's 20x18 screen tile buffer, player-centred): the tile id written for each kind. Cut
# trees and water use Red's ids (the HM helper reads them); every other kind gets an id that is none of
# Red's tree, water or shore tiles.
_RED_HM_TILES = {C.CUT_TREE_TILE_OVERWORLD, C.CUT_TREE_TILE_GYM, C.WATER_TILE, 0x52,
                 C.WATER_SHORE_TILE_1, C.WATER_SHORE_TILE_2}
TILE_MAP_IDS = {k: 0x60 + v for k, v in KINDS.items()}
TILE_MAP_IDS["CUT_TREE"] = C.CUT_TREE_TILE_OVERWORLD  # C.CUT_TREE_TILE_GYM in a TILESET_GYM room
TILE_MAP_IDS["WATER"] = C.WATER_TILE
VIEW_CELLS_W, VIEW_CELLS_H = C.TILE_MAP_WIDTH // 2, C.TILE_MAP_HEIGHT // 2  # 10x9 cells of 2x2 tiles
VIEW_PLAYER_COL, VIEW_PLAYER_ROW = 8, 8  # top-left tile of the player's cell, as in Red

WALK_FRAMES = 16  # one step = 16 frames at 1 px/frame; WALK_COUNTER goes 8 -> 0 like Red's
BATTLE_INTRO_FRAMES = 4
BATTLE_WIN_FRAMES = 16
BLACKOUT_FRAMES = 48  # HP shows 0 and IS_IN_BATTLE stays 1 for two 24-frame env steps
DIALOG_FRAMES = 16
NICKNAME_FRAMES = 48  # the starter's nickname prompt: two steps and more between the party count and the mon's stats
PUSH_FRAMES = 16  # a boulder push: input ignored, then the boulder is one cell further
START_MENU_X, PARTY_MENU_X, FIELD_MENU_X = 80, 0, 96  # the menu window's left edge (px) per menu
MENU_FIRST_ROW = 2  # window tile row of item 0; items are two tile rows apart
MENU_ROWS = 7  # the most items a menu shows (the start menu with the Pokedex; 4 field moves + 3)
_GRID_W, _GRID_H = L.SCREEN_STEPS_W, L.SCREEN_STEPS_H
_CELLS = _GRID_W * _GRID_H
_PLAYER_TILE = 72  # sprite tiles 72..87: 4 facings x 4 tiles; tile = 72 + facing + k
_WIN_TILE = len(KINDS) * 4  # 8x8 window tiles after the 2x2 kind tiles

# Hardware registers.
_P1, _IF, _LCDC, _LY, _SCY, _SCX, _BGP, _OBP0, _OBP1, _IE = (
    0xFF00, 0xFF0F, 0xFF40, 0xFF44, 0xFF42, 0xFF43, 0xFF47, 0xFF48, 0xFF49, 0xFFFF)
_LCDC_ON = 0x93  # LCD on, BG+OBJ on, tile data 0x8000, BG map 0x9800, 8x8 sprites
_LCDC_MENU = (_LCDC_ON | 0x60) & ~0x02  # + window on with its map at 0x9C00; sprites off behind the menu
_WX, _WY = 0xFF4B, 0xFF4A
_WIN_MAP = 0x9C00
_PALETTE = 0xE4  # shades 0,1,2,3 = white, light, dark, black

# ------------------------------------------------------------------------------------ graphics
# 16x16 pixel art per tile kind: '.'=shade 0 (white) '-'=1 '+'=2 '#'=3 (black).
_ART = {
    "FLOOR": [
        "................", "................", "..-.............", "................",
        "................", "................", "................", "..........-.....",
        "................", "................", "................", "................",
        "....-...........", "................", "................", "................",
    ],
    "GRASS": [
        "----------------", "--+-------+-----", "-+-+-----+-+----", "----------------",
        "------+-------+-", "-----+-+-----+-+", "----------------", "--+-------+-----",
        "-+-+-----+-+----", "----------------", "------+-------+-", "-----+-+-----+-+",
        "----------------", "--+-------+-----", "-+-+-----+-+----", "----------------",
    ],
    "DOOR": [
        "++++++++++++++++", "+##############+", "+##############+", "+##############+",
        "+##############+", "+##############+", "+##############+", "+##########--##+",
        "+##########--##+", "+##############+", "+##############+", "+##############+",
        "+##############+", "+##############+", "+##############+", "++++++++++++++++",
    ],
    "TRIGGER": [
        "................", ".......##.......", "......#--#......", ".....#----#.....",
        "....#------#....", "...#--------#...", "..#----------#..", ".#------------#.",
        ".#------------#.", "..#----------#..", "...#--------#...", "....#------#....",
        ".....#----#.....", "......#--#......", ".......##.......", "................",
    ],
    "HEAL": [
        "................", "................", "......####......", "......####......",
        "......####......", "......####......", "..############..", "..############..",
        "..############..", "..############..", "......####......", "......####......",
        "......####......", "......####......", "................", "................",
    ],
    "ITEM": [
        "................", "................", ".....######.....", "....#++++++#....",
        "...#++++++++#...", "..#++++++++++#..", "..#++++##++++#..", "..#####..#####..",
        "..#.....##....#.", "..#...........#.", "...#.........#..", "....#.......#...",
        ".....#######....", "................", "................", "................",
    ],
    "GYM": [
        "----------------", "-----######-----", "----#++++++#----", "---#++####++#---",
        "--#++#....#++#--", "--#+#......#+#--", "--#+#......#+#--", "--#+#......#+#--",
        "--#+#......#+#--", "--#++#....#++#--", "---#++####++#---", "----#++++++#----",
        "-----######-----", "----------------", "----------------", "----------------",
    ],
    "WALL": [
        "++++++++++++++++", "+++++++#++++++++", "+++++++#++++++++", "+++++++#++++++++",
        "################", "+++#++++++++#+++", "+++#++++++++#+++", "+++#++++++++#+++",
        "################", "+++++++#++++++++", "+++++++#++++++++", "+++++++#++++++++",
        "################", "+++#++++++++#+++", "+++#++++++++#+++", "################",
    ],
    "NPC": [
        "................", ".....######.....", "....########....", "....#------#....",
        "....#-#--#-#....", "....#------#....", ".....######.....", "...##++++++##...",
        "..#++++++++++#..", "..#+#++++++#+#..", "..#+#++++++#+#..", "....#++++++#....",
        "....#++##++#....", "....#+#..#+#....", "....###..###....", "................",
    ],
    "VOID": ["#" * 16] * 16,
    "CUT_TREE": [
        "................", "......####......", "....##++++##....", "...#++++++++#...",
        "..#+++-++++++#..", "..#++-+++++++#..", ".#+++++++++-++#.", ".#++++++++-+++#.",
        ".#+++++++++++#..", "..#+++++++++#...", "...##++++++##...", ".....###+##.....",
        ".......#+#......", ".......#+#......", "......#####.....", "................",
    ],
    "WATER": [
        "----------------", "----------------", "--++------++----", "-+--+----+--+---",
        "----------------", "----------------", "------++------++", "-----+--+----+--",
        "----------------", "----------------", "--++------++----", "-+--+----+--+---",
        "----------------", "----------------", "------++------++", "-----+--+----+--",
    ],
    "BOULDER": [
        "................", "................", ".....######.....", "...##++++++##...",
        "..#+++-+++++++#.", "..#++-++++++++#.", ".#++++++++++++#.", ".#++++++++++++#.",
        ".#+++++++++-++#.", ".#++++++++-+++#.", ".#++++++++++++#.", "..#++++++++++#..",
        "...##++++++##...", ".....######.....", "................", "................",
    ],
    "LEDGE": [
        "................", "................", "..-.............", "................",
        "................", "................", "................", "................",
        "################", "#++++++++++++++#", "-##############-", "----------------",
        "................", "................", "................", "................",
    ],
}

# 8x8 window tiles for the menus, in tile order from _WIN_TILE.
_WIN_ART = {
    "BLANK": ["........"] * 8,
    "H": ["........", "........", "........", "########", "########", "........", "........", "........"],
    "V": ["...##..."] * 8,
    "TL": ["........", "........", "........", "...#####", "...#####", "...##...", "...##...", "...##..."],
    "TR": ["........", "........", "........", "#####...", "#####...", "...##...", "...##...", "...##..."],
    "BL": ["...##...", "...##...", "...##...", "...#####", "...#####", "........", "........", "........"],
    "BR": ["...##...", "...##...", "...##...", "#####...", "#####...", "........", "........", "........"],
    "CURSOR": ["........", ".##.....", ".####...", ".######.", ".######.", ".####...", ".##.....", "........"],
    "BAR": ["........", "........", "........", "++++++++", "++++++++", "........", "........", "........"],
}
WINDOW_TILES = {name: _WIN_TILE + i for i, name in enumerate(_WIN_ART)}
assert _WIN_TILE + len(_WIN_ART) <= _PLAYER_TILE, "background tiles would overwrite the player's sprite tiles"

# A red_time world's text, HP bar and letter tiles, after the player's sprite tiles (72..87).
_RED_TILE = _PLAYER_TILE + 16
_GLYPH_ART = (  # letter-like shapes: the worlds have no font, the screen only needs text to look like text
    ["........", ".####...", "#....#..", "#....#..", "######..", "#....#..", "#....#..", "........"],
    ["........", "#####...", "#....#..", "#####...", "#....#..", "#....#..", "#####...", "........"],
    ["........", ".####...", "#....#..", "#.......", "#.......", "#....#..", ".####...", "........"],
    ["........", "#....#..", "##..##..", "#.##.#..", "#....#..", "#....#..", "#....#..", "........"],
    ["........", "######..", "#.......", "####....", "#.......", "#.......", "######..", "........"],
    ["........", "#....#..", "#....#..", "######..", "#....#..", "#....#..", "#....#..", "........"],
    ["........", "#####...", "..#.....", "..#.....", "..#.....", "..#.....", "#####...", "........"],
    ["........", "#....#..", "#....#..", ".#..#...", "..##....", "..##....", "..##....", "........"],
)
_RED_ART = {
    "ARROW": ["........", "........", "#######.", ".#####..", "..###...", "...#....", "........", "........"],
    "HP_FULL": ["........", "########", "########", "########", "########", "########", "########", "........"],
    "HP_EMPTY": ["........", "########", "........", "........", "........", "........", "########", "........"],
    **{f"GLYPH{i}": art for i, art in enumerate(_GLYPH_ART)},
}
RED_TILES = {name: _RED_TILE + i for i, name in enumerate(_RED_ART)}

# Red's field moves: move id -> the index GetMonFieldMoves stores in wFieldMoves.
_FIELD_MOVES = (
    (C.MOVE_CUT, C.FIELD_MOVE_CUT), (C.MOVE_FLY, C.FIELD_MOVE_FLY), (C.MOVE_SURF, C.FIELD_MOVE_SURF),
    (C.MOVE_STRENGTH, C.FIELD_MOVE_STRENGTH), (C.MOVE_FLASH, C.FIELD_MOVE_FLASH), (C.MOVE_DIG, C.FIELD_MOVE_DIG),
    (C.MOVE_TELEPORT, C.FIELD_MOVE_TELEPORT), (C.MOVE_SOFTBOILED, C.FIELD_MOVE_SOFTBOILED),
)

# The player: colour 0 is transparent in sprites; body black, face light. One drawing per facing.
_PLAYER_BODY = [
    "................", ".....######.....", "....########....", "...##########...",
    "...#FFFFFFFF#...", "...#FFFFFFFF#...", "....#FFFFFF#....", "...##########...",
    "..###-####-###..", "..##--####--##..", "..#.########.#..", "....########....",
    "....###..###....", "....###..###....", "...####..####...", "................",
]
_PLAYER_FACES = {  # which face pixels are eyes ('#') for each facing; 'F' pixels otherwise light
    L.FACING_DOWN: {(4, 5), (4, 10)},
    L.FACING_UP: set(),  # back of the head: the face area is hair
    L.FACING_LEFT: {(4, 4)},
    L.FACING_RIGHT: {(4, 11)},
}
_SHADE = {".": 0, "-": 1, "+": 2, "#": 3}


def _player_art(facing: int) -> list[str]:
    rows = []
    for y, row in enumerate(_PLAYER_BODY):
        out = []
        for x, ch in enumerate(row):
            if ch == "F":
                ch = "#" if facing == L.FACING_UP or (y, x) in _PLAYER_FACES[facing] else "-"
            out.append(ch)
        rows.append("".join(out))
    return rows


def tile_pixels() -> dict[str, list[list[int]]]:
    """Shade (0-3) of every pixel of each 16x16 drawing: BG kinds and 'PLAYER_<facing>'."""
    out = {k: [[_SHADE[c] for c in row] for row in art] for k, art in _ART.items()}
    for facing in (L.FACING_DOWN, L.FACING_UP, L.FACING_LEFT, L.FACING_RIGHT):
        out[f"PLAYER_{facing}"] = [[_SHADE[c] for c in row] for row in _player_art(facing)]
    return out


def _tile8_2bpp(art: list[str]) -> bytes:
    out = bytearray()
    for row in art:
        lo = hi = 0
        for x, ch in enumerate(row):
            shade = _SHADE[ch]
            lo |= (shade & 1) << (7 - x)
            hi |= (shade >> 1) << (7 - x)
        out += bytes((lo, hi))
    return bytes(out)


def window_map() -> list[list[int]]:
    """The menu window's 20x18 tile map: a box; UpdateWindow draws the cursor and item bars inside it."""
    t = WINDOW_TILES
    w, h = C.TILE_MAP_WIDTH, C.TILE_MAP_HEIGHT
    rows = [[t["TL"]] + [t["H"]] * (w - 2) + [t["TR"]]]
    rows += [[t["V"]] + [t["BLANK"]] * (w - 2) + [t["V"]] for _ in range(h - 2)]
    rows.append([t["BL"]] + [t["H"]] * (w - 2) + [t["BR"]])
    return rows


def _tiles_2bpp(pixels: list[list[int]]) -> bytes:
    """A 16x16 drawing as four 8x8 2bpp tiles in order top-left, top-right, bottom-left, bottom-right."""
    if len(pixels) != 16 or any(len(r) != 16 for r in pixels):
        raise ValueError("tile art must be 16x16")
    out = bytearray()
    for ty, tx in ((0, 0), (0, 8), (8, 0), (8, 8)):
        for y in range(8):
            lo = hi = 0
            for x in range(8):
                shade = pixels[ty + y][tx + x]
                lo |= (shade & 1) << (7 - x)
                hi |= (shade >> 1) << (7 - x)
            out += bytes((lo, hi))
    return bytes(out)


# ------------------------------------------------------------------------------------ the program
class _World:
    """Emits the program; one method per routine, read top to bottom."""

    def __init__(self, world: L.World = L.TEST):
        world.validate()
        self.w = world
        self.a = Asm()
        for name, addr in PRIVATE_RAM.items():
            self.a.define(name, addr)
        self.rooms = list(world.rooms)
        self.room_index = {r.name: i for i, r in enumerate(self.rooms)}
        self.specials = world.specials()
        self.states = STATES
        self.tiles = {**WINDOW_TILES, **RED_TILES, "ENEMY": KINDS["NPC"] * 4, "PLAYER": _PLAYER_TILE + L.FACING_UP}
        if world.red_time:
            for name, addr in R.RED_TIME_RAM.items():
                self.a.define(name, addr)
        if world.battery_save:
            for name, addr in SG.SAVE_RAM.items():
                self.a.define(name, addr)

    # ---- helpers that emit common sequences
    def set_event(self, event: str) -> None:
        addr, bit = L.event_bit(event)
        self.a.ld("hl", addr)
        self.a.set(bit, "[hl]")

    def test_event(self, event: str) -> None:
        """Leaves Z set when the event is NOT set."""
        addr, bit = L.event_bit(event)
        self.a.ld("a", [addr])
        self.a.bit(bit, "a")

    def store(self, addr, value: int) -> None:
        if value == 0:
            self.a.xor("a")
        else:
            self.a.ld("a", value)
        self.a.ld([addr], "a")

    def zero(self, *addrs) -> None:
        """0 into every address, with one ``xor a``."""
        self.a.xor("a")
        for addr in addrs:
            self.a.ld([addr], "a")

    def jump_on_a(self, cases, default: str | None = None) -> None:
        """Compare-and-jump chain: to the label of the first (value, label) whose value a equals.

        A routine's own ``.local`` labels are reached with ``jr`` (the assembler rejects one out of reach),
        others with ``jp``. No match: jump to ``default``, or fall through when there is none."""
        for value, label in cases:
            self.a.cp(value)
            if label.startswith("."):
                self.a.jr("z", label)
            else:
                self.a.jp("z", label)
        if default is not None:
            self.a.jp(default)

    def dispatch_state(self, handlers: dict[str, str], default: str | None = None) -> None:
        """Jump to the handler of the current wState; ``handlers`` maps a STATES name to its label."""
        self.a.ld("a", ["wState"])
        self.jump_on_a([(STATES[name], label) for name, label in handlers.items()], default)

    def enter_timed(self, state: str, frames: int, *, ignore_input: bool = False) -> None:
        """wState = state for ``frames`` frames (StTimed counts wTimer down), JOY_IGNORE = 0xFF if asked."""
        self.store("wState", STATES[state])
        self.store("wTimer", frames)
        if ignore_input:
            self.store(C.JOY_IGNORE, 0xFF)

    def set_warp(self, room: str, xy: tuple[int, int], *, pending: bool = True) -> None:
        """The warp target (the room by name); ``pending``: DoWarp runs at the end of this frame."""
        self.store("wWarpRoom", self.room_index[room])
        self.store("wWarpX", xy[0])
        self.store("wWarpY", xy[1])
        if pending:
            self.store("wWarpPending", 1)

    def loop_bc(self, label: str) -> None:
        """The 16-bit count loop's tail: bc -= 1, back to ``label`` while bc is not 0 (a = b | c)."""
        self.a.dec("bc")
        self.a.ld("a", "b")
        self.a.or_("c")
        self.a.jr("nz", label)

    def index(self, table=None) -> None:
        """hl = table + a and de = a (a byte index); ``table`` None: hl already holds the table."""
        self.a.ld("e", "a")
        self.a.ld("d", 0)
        if table is not None:
            self.a.ld("hl", table)
        self.a.add("hl", "de")

    def copy_indexed(self, pairs) -> None:
        """de = an index: [dest] = table[de] for each (table, dest)."""
        for table, dest in pairs:
            self.a.ld("hl", table)
            self.a.add("hl", "de")
            self.a.ld("a", "[hl]")
            self.a.ld([dest], "a")

    def run_special(self, table: str) -> None:
        """de = a cell index: jump to the cell's routine in ``table`` (EnterTable/TalkTable); none: return."""
        a = self.a
        a.ld("hl", "wRoomSpecial")
        a.add("hl", "de")
        a.ld("a", "[hl]")
        a.and_("a")
        a.ret("z")
        a.dec("a")
        a.ld("hl", table)
        a.jp("CallTable")

    def mark_owned(self) -> None:
        """The wild enemy (wEnemyIndex) owned in the Pokedex."""
        a = self.a
        a.call("EnemyEntry")
        a.inc("hl")
        a.ld("a", "[hl+]")
        a.ld("b", "a")
        a.inc("hl")
        a.inc("hl")
        self.mark_dex(step_past=False)

    def compare_speeds(self) -> None:
        """Flags of the battle mon's speed compared with the enemy's (carry: slower, Z: a tie); b = enemy speed."""
        a = self.a
        a.ld("a", [C.WRAM["wEnemyMonSpeed"] + 1])
        a.ld("b", "a")
        a.ld("a", [C.WRAM["wBattleMonSpeed"] + 1])
        a.cp("b")

    def trainer_won(self, wild: str) -> None:
        """A won battle: a trainer's TrainerWon<i> (then wTrainer = 0); a wild battle jumps to ``wild``."""
        a = self.a
        a.ld("a", ["wTrainer"])
        a.and_("a")
        a.jr("z", wild)
        a.dec("a")
        a.ld("hl", "TrainerWonTable")
        a.call("CallTable")
        self.zero("wTrainer")

    def copy_window_frame(self, loop: str) -> None:
        """LCD off: the menus' 20x18 frame (WindowMap) into the window's tile map; ``loop`` names the row loop."""
        a = self.a
        a.ld("hl", _WIN_MAP)
        a.ld("de", "WindowMap")
        a.ld("b", C.TILE_MAP_HEIGHT)
        a.label(loop)
        a.push("bc")
        a.ld("bc", C.TILE_MAP_WIDTH)
        a.call("Copy")
        a.ld("bc", 32 - C.TILE_MAP_WIDTH)
        a.add("hl", "bc")
        a.pop("bc")
        a.dec("b")
        a.jr("nz", loop)

    def mark_dex(self, *, step_past: bool) -> None:
        """hl -> an EnemyTable Pokedex pointer, b = the species' bit: sets it; hl ends past the pointer
        (``step_past``) or on its high byte."""
        a = self.a
        a.ld("a", "[hl+]")
        a.ld("e", "a")
        a.ld("a", "[hl+]" if step_past else "[hl]")
        a.ld("d", "a")
        a.ld("a", "[de]")
        a.or_("b")
        a.ld("[de]", "a")

    # ---- layout
    def vectors(self) -> None:
        a = self.a
        a.org(0x40)  # VBlank
        a.push("af")
        a.ld("a", 1)
        a.ld(["wVBlankFlag"], "a")
        a.pop("af")
        a.reti()
        for vector in (0x48, 0x50, 0x58, 0x60):  # STAT, timer, serial, joypad: never enabled
            a.org(vector)
            a.reti()
        a.entry("Start")

    def boot(self) -> None:
        a = self.a
        start = self.w.room(self.w.start_room)
        a.org(0x150)
        a.label("Start")
        a.di()
        a.ld("sp", 0xFFFE)  # HRAM: clearing WRAM below cannot wipe return addresses
        a.call("LcdOff")
        for base, size in ((C.WRAM_BASE, C.WRAM_SIZE), (C.VRAM_BASE, C.VRAM_SIZE), (C.OAM_BASE, C.OAM_SIZE)):
            a.ld("hl", base)
            a.ld("bc", size)
            a.call("Clear")
        a.ld("hl", C.VRAM_BASE)
        a.ld("de", "BgTiles")
        a.ld("bc", len(KINDS) * 64 + len(_WIN_ART) * 16)  # four 16-byte tiles per kind, then the window's
        a.call("Copy")
        self.copy_window_frame(".winrow")
        a.ld("hl", C.VRAM_BASE + _PLAYER_TILE * 16)
        a.ld("de", "SpriteTiles")
        a.ld("bc", 16 * 16)
        a.call("Copy")
        if self.w.red_time:
            a.ld("hl", C.VRAM_BASE + _RED_TILE * 16)
            a.ld("de", "RedTiles")
            a.ld("bc", len(_RED_ART) * 16)
            a.call("Copy")
        a.ld("a", _PALETTE)
        for reg in (_BGP, _OBP0, _OBP1):
            a.ldh([reg], "a")
        a.xor("a")
        a.ldh([_SCX], "a")
        a.ldh([_SCY], "a")
        a.ldh([_WY], "a")
        a.call("InitGame")
        self.set_warp(start.name, self.w.start_xy, pending=False)
        a.call("DoWarp")  # loads and draws the start room, turns the LCD on
        if self.w.battery_save:  # a save Red would load: the main menu first
            a.call("SaveValid")
            a.jr("nz", ".free")
            a.call("OpenMainMenu")
            a.jr(".menu")
            a.label(".free")
        if self.w.red_time:  # Red once the overworld runs: no window (hWY), sprites updated
            self.store(C.H_WY, C.WY_NO_WINDOW)
            self.store(C.UPDATE_SPRITES_ENABLED, 1)
        if self.w.battery_save:
            a.label(".menu")
        a.xor("a")
        a.ldh([_IF], "a")
        a.ld("a", 1)  # VBlank only
        a.ldh([_IE], "a")
        self.store("wReady", READY_VALUE)
        a.ei()
        a.label("Main")
        a.halt()
        a.nop()
        a.ld("a", ["wVBlankFlag"])
        a.and_("a")
        a.jr("z", "Main")
        a.xor("a")
        a.ld(["wVBlankFlag"], "a")
        a.call("UpdateWindow")  # first: VRAM is writable only in VBlank
        a.call("UpdateOAM")  # still inside VBlank: OAM is writable
        a.call("ReadJoypad")
        a.call("Rng")
        a.call("Step")
        a.call("FontFlag")
        a.ld("a", ["wWarpPending"])
        a.and_("a")
        a.call("nz", "DoWarp")
        a.ld("a", ["wRedraw"])
        a.and_("a")
        a.call("nz", "Redraw")
        a.jr("Main")

    def init_game(self) -> None:
        a = self.a
        wram = C.WRAM
        w = self.w
        a.label("InitGame")
        if w.party_at_boot:
            a.call("GiveStarter")
        else:
            self.store(C.PARTY_SPECIES, 0xFF)  # an empty party: the terminator alone
        for i, byte in enumerate(_bcd3(w.start_money)):
            self.store(C.PLAYER_MONEY + i, byte)
        self.store(C.NUM_BAG_ITEMS, 0)
        self.store(C.BAG_ITEMS, 0xFF)
        self.store(C.LAST_BLACKOUT_MAP, w.room(w.blackout_room).map_id)
        self.store("wBlackoutRoom", self.room_index[w.blackout_room])
        self.store("wBlackoutX", w.blackout_xy[0])
        self.store("wBlackoutY", w.blackout_xy[1])
        self.store(C.PLAYER_FACING, w.start_facing)
        self.store("wRngLo", 0xE1)
        self.store("wRngHi", 0xAC)
        if w.battery_save:  # the player's name, which a save needs (Red's CheckForPlayerNameInSRAM)
            for i, byte in enumerate(SG.PLAYER_NAME_RED):
                self.store(C.PLAYER_NAME + i, byte)
        a.ret()

        # A party of one: the starter. At boot all at once; from Red's starter ball in two parts, as Red's
        # AddPartyMon does: the count and the species list (ListStarter), then the nickname prompt (the NICKNAME
        # state), and only then the mon's struct (FillStarter).
        a.label("GiveStarter")
        a.call("ListStarter")
        a.jr("FillStarter")
        a.label("ListStarter")
        self.store(C.PARTY_COUNT, 1)
        self.store(C.PARTY_SPECIES, w.starter.species_id)
        self.store(C.PARTY_SPECIES + 1, 0xFF)
        a.ret()
        a.label("FillStarter")
        self.store(wram["wPartyMon1Species"], w.starter.species_id)
        self.store(C.PARTY_MON1_LEVEL, w.starter_level)
        for i, move in enumerate(w.starter_moves):
            self.store(C.PARTY_MON1_MOVES + i, move)
        self.store(wram["wPartyMon1BoxLevel"], w.starter_level)
        if w.red_time:  # stats from the level, as Red's AddPartyMon; HP full; the level's experience
            a.call("PartyStats")
            self.store(C.PARTY_MON1_MAX_HP, 0)
            self.store(C.PARTY_MON1_HP, 0)
            a.ld("a", [C.PARTY_MON1_MAX_HP + 1])
            a.ld([C.PARTY_MON1_HP + 1], "a")
            exp = R.exp_for_level(w.starter_level)
            for k in range(3):
                self.store(wram["wPartyMon1Exp"] + k, (exp >> (16 - 8 * k)) & 0xFF)
            a.ret()
            return
        for addr in (C.PARTY_MON1_HP, C.PARTY_MON1_MAX_HP):
            self.store(addr, w.starter_max_hp >> 8)
            self.store(addr + 1, w.starter_max_hp & 0xFF)
        a.ret()

    def library(self) -> None:
        """Memory, LCD, joypad and random-number routines."""
        a = self.a
        a.label("Clear")  # hl = dest, bc = count (> 0)
        a.xor("a")
        a.ld("[hl+]", "a")
        self.loop_bc("Clear")
        a.ret()

        a.label("Copy")  # hl = dest, de = src, bc = count (> 0)
        a.ld("a", "[de]")
        a.inc("de")
        a.ld("[hl+]", "a")
        self.loop_bc("Copy")
        a.ret()

        a.label("LcdOff")  # waits for VBlank: turning the LCD off outside it can damage real hardware
        a.ldh("a", [_LCDC])
        a.bit(7, "a")
        a.ret("z")
        a.label(".wait")
        a.ldh("a", [_LY])
        a.cp(C.SCREEN_H)
        a.jr("c", ".wait")
        a.ldh("a", [_LCDC])
        a.res(7, "a")
        a.ldh([_LCDC], "a")
        a.ret()

        a.label("LcdOn")
        a.ld("a", _LCDC_ON)
        a.ldh([_LCDC], "a")
        a.ret()

        a.label("ReadJoypad")  # Red's order: A,B,SELECT,START,RIGHT,LEFT,UP,DOWN = bits 0-7, 1 = pressed
        a.ld("a", 0x20)  # select the d-pad (P14 low)
        a.ldh([_P1], "a")
        a.ldh("a", [_P1])
        a.ldh("a", [_P1])
        a.cpl()
        a.and_(0x0F)
        a.swap("a")
        a.ld("b", "a")
        a.ld("a", 0x10)  # select the buttons (P15 low)
        a.ldh([_P1], "a")
        for _ in range(6):  # let the lines settle, as Red does
            a.ldh("a", [_P1])
        a.cpl()
        a.and_(0x0F)
        a.or_("b")
        a.ld("b", "a")
        a.ld("a", 0x30)
        a.ldh([_P1], "a")
        a.ld("a", ["wJoyHeld"])
        a.ld(["wJoyLast"], "a")
        a.cpl()
        a.and_("b")
        a.ld(["wJoyPressed"], "a")  # newly pressed this frame
        a.ld("a", "b")
        a.ld(["wJoyHeld"], "a")
        a.ret()

        a.label("Rng")  # one step of a 16-bit Galois LFSR (taps 0xB400); returns the low byte in a
        a.push("hl")
        a.ld("a", ["wRngHi"])
        a.ld("h", "a")
        a.ld("a", ["wRngLo"])
        a.ld("l", "a")
        a.srl("h")
        a.rr("l")
        a.jr("nc", ".store")
        a.ld("a", "h")
        a.xor(0xB4)
        a.ld("h", "a")
        a.label(".store")
        a.ld("a", "h")
        a.ld(["wRngHi"], "a")
        a.ld("a", "l")
        a.ld(["wRngLo"], "a")
        a.pop("hl")
        a.ret()

        a.label("RngByte")  # eight fresh bits in a; keeps bc, de, hl
        a.push("bc")
        a.ld("b", 8)
        a.label(".loop")
        a.call("Rng")
        a.dec("b")
        a.jr("nz", ".loop")
        a.pop("bc")
        a.ret()

        a.label("CallTable")  # a = index (0..254), hl = table of words; jumps to the entry (returns if 0)
        a.ld("e", "a")
        a.ld("d", 0)
        a.sla("e")
        a.rl("d")
        a.add("hl", "de")
        a.ld("a", "[hl+]")
        a.ld("h", "[hl]")
        a.ld("l", "a")
        a.or_("h")
        a.ret("z")
        a.jp("hl")

    def video(self) -> None:
        a = self.a
        a.label("UpdateOAM")  # the player as four 8x8 sprites at (wSprX, wSprY) on screen
        a.ld("hl", C.OAM_BASE)
        a.ld("a", ["wSprY"])
        a.add("a", 16)
        a.ld("b", "a")
        a.ld("a", ["wSprX"])
        a.add("a", 8)
        a.ld("c", "a")
        a.ld("a", [C.PLAYER_FACING])
        a.add("a", _PLAYER_TILE)
        a.ld("d", "a")
        for k, (dy, dx) in enumerate(((0, 0), (0, 8), (8, 0), (8, 8))):
            a.ld("a", "b")
            if dy:
                a.add("a", dy)
            a.ld("[hl+]", "a")
            a.ld("a", "c")
            if dx:
                a.add("a", dx)
            a.ld("[hl+]", "a")
            a.ld("a", "d")
            if k:
                a.add("a", k)
            a.ld("[hl+]", "a")
            a.xor("a")
            a.ld("[hl+]", "a")
        a.ret()

        a.label("DoWarp")  # enter wWarpRoom at (wWarpX, wWarpY)
        a.xor("a")
        a.ld(["wWarpPending"], "a")
        a.ld("a", ["wWarpRoom"])
        a.ld(["wRoom"], "a")
        a.ld("e", "a")
        a.ld("d", 0)
        self.copy_indexed((("RoomMapIds", C.CUR_MAP), ("RoomTilesets", C.CUR_MAP_TILESET)))
        a.ld("hl", C.STATUS_FLAGS1)
        a.res(C.BIT_STRENGTH_ACTIVE, "[hl]")  # Red clears it on every map load
        for src, coord, spr in (("wWarpX", "wPosX", "wSprX"), ("wWarpY", "wPosY", "wSprY")):
            a.ld("a", [src])
            a.ld([coord], "a")
            a.swap("a")  # x16: coordinates are < 16
            a.ld([spr], "a")
        a.call("SyncCoords")
        a.call("LoadRoom")  # from ROM: cut trees and moved boulders are back
        a.label("Redraw")  # redraw the room as wRoomKind has it (after a pickup, a cut, a boulder push)
        a.xor("a")
        a.ld(["wRedraw"], "a")
        a.call("LcdOff")
        a.call("DrawRoom")
        if self.w.red_time:
            a.call("DrawWindowFrame")  # text and battles drew over the menus' frame
        a.call("UpdateOAM")
        a.call("LcdOn")
        # fall through: the wTileMap mirror

        a.label("UpdateTileMap")  # 10x9 cells of 2x2 tiles around the player; the player's cell at (8,8)
        a.ld("a", ["wPosY"])
        a.sub(VIEW_PLAYER_ROW // 2)
        a.ld(["wViewY"], "a")
        a.ld("hl", C.TILE_MAP)
        a.ld("b", VIEW_CELLS_H)
        a.label(".row")
        a.ld("a", ["wPosX"])
        a.sub(VIEW_PLAYER_COL // 2)
        a.ld(["wViewX"], "a")
        a.ld("c", VIEW_CELLS_W)
        a.label(".col")
        a.push("bc")
        a.push("hl")
        a.ld("hl", "wViewX")
        a.ld("b", "[hl]")
        a.inc("[hl]")
        a.ld("a", ["wViewY"])
        a.ld("c", "a")
        a.ld("a", "b")
        a.cp(_GRID_W)  # negative coordinates wrapped to >= 0xFC: outside too
        a.jr("nc", ".outside")
        a.ld("a", "c")
        a.cp(_GRID_H)
        a.jr("nc", ".outside")
        a.call("CellIndex")
        a.jr(".kind")
        a.label(".outside")
        a.ld("a", KINDS["VOID"])
        a.label(".kind")
        self.index("TileMapIds")
        a.ld("a", "[hl]")
        a.cp(C.CUT_TREE_TILE_OVERWORLD)
        a.jr("nz", ".tile")
        a.ld("a", [C.CUR_MAP_TILESET])
        a.cp(C.TILESET_GYM)
        a.ld("a", C.CUT_TREE_TILE_OVERWORLD)
        a.jr("nz", ".tile")
        a.ld("a", C.CUT_TREE_TILE_GYM)
        a.label(".tile")
        a.pop("hl")
        a.ld("de", C.TILE_MAP_WIDTH)
        a.push("hl")
        a.ld("[hl+]", "a")
        a.ld("[hl]", "a")
        a.add("hl", "de")
        a.ld("[hl-]", "a")
        a.ld("[hl]", "a")
        a.pop("hl")
        a.inc("hl")
        a.inc("hl")
        a.pop("bc")
        a.dec("c")
        a.jr("nz", ".col")
        a.ld("de", C.TILE_MAP_WIDTH)  # skip the cells' second tile row
        a.add("hl", "de")
        a.ld("a", ["wViewY"])
        a.inc("a")
        a.ld(["wViewY"], "a")
        a.dec("b")
        a.jr("nz", ".row")
        a.ret()

        if self.w.red_time:
            a.label("DrawWindowFrame")  # LCD off: the menus' frame into the window map
            self.copy_window_frame(".row")
            a.ret()

        a.label("UpdateWindow")  # the menu window: shown in menu states, with a cursor and one bar per item
        if self.w.red_time:  # text, YES/NO, naming, battle: the window shows wTileMap from row wWinTop down
            a.ld("a", ["wState"])
            a.cp(STATES[R.RED_TIME_STATES[0]])
            a.jr("c", ".menus")
            a.ld("a", ["wWinTop"])
            a.and_("a")
            a.ldh("a", [_LCDC])
            a.jr("nz", ".sprites")
            a.res(1, "a")  # the whole screen: no sprites over it
            a.jr(".lcdc")
            a.label(".sprites")
            a.set(1, "a")
            a.label(".lcdc")
            a.or_(0x60)  # window on, its map at 0x9C00
            a.ldh([_LCDC], "a")
            a.jp("MirrorWindow")
            a.label(".menus")
        a.ld("a", ["wWindowDirty"])
        a.and_("a")
        a.ret("z")
        a.xor("a")
        a.ld(["wWindowDirty"], "a")
        a.ld("a", ["wState"])
        self.index("WindowXByState")
        a.ld("a", "[hl]")
        a.and_("a")
        a.jr("nz", ".on")
        a.ldh("a", [_LCDC])
        a.and_(~(_LCDC_ON ^ _LCDC_MENU) & 0xFF)
        a.or_(_LCDC_ON & (_LCDC_ON ^ _LCDC_MENU))
        a.ldh([_LCDC], "a")
        a.ret()
        a.label(".on")
        a.ldh([_WX], "a")
        a.ldh("a", [_LCDC])
        a.and_(~(_LCDC_ON ^ _LCDC_MENU) & 0xFF)
        a.or_(_LCDC_MENU & (_LCDC_ON ^ _LCDC_MENU))
        a.ldh([_LCDC], "a")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.ld("b", "a")
        a.ld("a", ["wMenuLast"])
        a.ld("c", "a")
        for i in range(MENU_ROWS):
            a.ld("hl", _WIN_MAP + (MENU_FIRST_ROW + 2 * i) * 32 + 1)
            a.ld("a", "b")
            a.cp(i)
            a.ld("a", WINDOW_TILES["BLANK"])
            a.jr("nz", f".cursor{i}")
            a.ld("a", WINDOW_TILES["CURSOR"])
            a.label(f".cursor{i}")
            a.ld("[hl+]", "a")
            a.inc("hl")
            a.ld("a", "c")
            a.cp(i)
            a.ld("a", WINDOW_TILES["BAR"])
            a.jr("nc", f".bar{i}")  # item i exists: i <= wMenuLast
            a.ld("a", WINDOW_TILES["BLANK"])
            a.label(f".bar{i}")
            for _ in range(5):
                a.ld("[hl+]", "a")
        a.ret()

        a.label("LoadRoom")
        a.ld("a", ["wRoom"])
        a.add("a", "a")
        self.index("RoomDataPtrs")
        a.ld("a", "[hl+]")
        a.ld("d", "[hl]")
        a.ld("e", "a")
        a.ld("hl", "wRoomKind")
        a.ld("bc", _CELLS)
        a.call("Copy")
        a.ld("hl", "wRoomSpecial")
        a.ld("bc", _CELLS)
        a.call("Copy")
        # A taken pickup is floor from now on, and so is the place of a person who has stepped aside.
        for n, p in enumerate(self.w.pickups + self.w.blockers):
            idx = p.xy[1] * _GRID_W + p.xy[0]
            skip = f".keep{n}"
            a.ld("a", ["wRoom"])
            a.cp(self.room_index[p.room])
            a.jr("nz", skip)
            self.test_event(p.event)
            a.jr("z", skip)
            a.ld("a", KINDS["FLOOR"])
            a.ld([PRIVATE_RAM["wRoomKind"] + idx], "a")
            a.xor("a")
            a.ld([PRIVATE_RAM["wRoomSpecial"] + idx], "a")
            a.label(skip)
        a.ret()

        a.label("DrawRoom")  # each cell -> 2x2 BG tiles kind*4 + (0 TL, 1 TR, 2 BL, 3 BR) at 0x9800
        a.ld("hl", 0x9800)
        a.ld("de", "wRoomKind")
        a.ld("b", _GRID_H)
        a.label(".row")
        a.ld("c", _GRID_W)
        a.label(".col")
        a.ld("a", "[de]")
        a.inc("de")
        a.add("a", "a")
        a.add("a", "a")
        a.ld("[hl+]", "a")
        a.inc("a")
        a.ld("[hl-]", "a")
        a.push("de")
        a.ld("de", 32)
        a.add("hl", "de")
        a.inc("a")
        a.ld("[hl+]", "a")
        a.inc("a")
        a.ld("[hl]", "a")
        a.ld("de", 0x10000 - 31)
        a.add("hl", "de")  # next cell: row start + 2
        a.pop("de")
        a.dec("c")
        a.jr("nz", ".col")
        a.push("de")
        a.ld("de", 64 - 2 * _GRID_W)  # next pair of tile rows
        a.add("hl", "de")
        a.pop("de")
        a.dec("b")
        a.jr("nz", ".row")
        a.ret()

    def movement(self) -> None:
        a = self.a
        s = STATES
        a.label("Step")  # one frame of the state machine
        handlers = {
            "IDLE": "StIdle", "WALK": "StWalk", "BATTLE": "StBattle",
            "START_MENU": "StStartMenu", "PARTY_MENU": "StPartyMenu", "FIELD_MENU": "StFieldMenu",
        }
        if self.w.red_time:
            handlers.update({"TEXT": "StText", "YESNO": "StYesNo", "NAMING": "StNaming", "B_MENU": "StBattleMenu",
                             "B_MOVES": "StBattleMoves", "B_SUB": "StBattleSub"})
        if self.w.battery_save:
            handlers["MAIN_MENU"] = "StMainMenu"
        self.dispatch_state(handlers, default="StTimed")  # BATTLE_INTRO, BATTLE_WIN, BLACKOUT, DIALOG, NICKNAME, PUSH

        a.label("StIdle")
        a.xor("a")
        a.ld([C.JOY_IGNORE], "a")
        a.ld("a", ["wJoyPressed"])
        a.bit(3, "a")  # START
        a.jp("nz", "OpenStartMenu")
        a.ld("a", ["wJoyHeld"])
        for bit, facing in ((7, L.FACING_DOWN), (6, L.FACING_UP), (5, L.FACING_LEFT), (4, L.FACING_RIGHT)):
            a.ld("b", facing)
            a.bit(bit, "a")
            a.jr("nz", ".turn")
        a.ld("a", ["wJoyPressed"])
        a.bit(0, "a")
        a.jp("nz", "TalkFacing")
        a.ret()
        a.label(".turn")  # facing changes even when a wall blocks the step
        a.ld("a", "b")
        a.ld([C.PLAYER_FACING], "a")
        a.call("FacedCell")
        a.ret("c")
        a.cp(_SOLID_MIN)
        a.jr("c", ".walk")
        a.cp(KINDS["BOULDER"])
        a.jr("z", ".boulder")
        a.cp(KINDS["LEDGE"])
        a.jr("z", ".ledge")
        a.cp(KINDS["WATER"])
        a.ret("nz")
        a.ld("a", [C.WALK_BIKE_SURF_STATE])
        a.cp(C.SURF_STATE_SURFING)
        a.ret("nz")
        a.label(".walk")
        self.store("wState", s["WALK"])
        self.store("wWalkFrames", WALK_FRAMES)
        self.store(C.WALK_COUNTER, WALK_FRAMES // 2)
        self.store(C.JOY_IGNORE, 0xFF)
        a.ret()
        a.label(".ledge")  # jumped only walking down
        a.ld("a", [C.PLAYER_FACING])
        a.cp(L.FACING_DOWN)
        a.ret("nz")
        a.jr(".walk")
        a.label(".boulder")  # with Strength active and floor beyond, push it: the player stays
        a.ld("a", [C.STATUS_FLAGS1])
        a.bit(C.BIT_STRENGTH_ACTIVE, "a")
        a.ret("z")
        a.ld("a", "e")
        a.ld(["wPushFrom"], "a")
        for d, coord, reg, limit in (("wWalkDX", "wPosX", "b", _GRID_W), ("wWalkDY", "wPosY", "c", _GRID_H)):
            a.ld("a", [d])
            a.ld("d", "a")
            a.ld("a", [coord])
            a.add("a", "d")
            a.add("a", "d")
            a.cp(limit)
            a.ret("nc")
            a.ld(reg, "a")
        a.call("CellIndex")
        a.ret("nz")  # only onto plain floor
        a.ld("a", "e")
        a.ld(["wPushTo"], "a")
        self.enter_timed("PUSH", PUSH_FRAMES, ignore_input=True)
        a.ret()

        a.label("SyncCoords")  # Red's X_COORD/Y_COORD: the room position + the room's offset in its map
        a.ld("a", ["wRoom"])
        a.ld("e", "a")
        a.ld("d", 0)
        for table, pos, coord in (("RoomOffX", "wPosX", C.X_COORD), ("RoomOffY", "wPosY", C.Y_COORD)):
            a.ld("hl", table)
            a.add("hl", "de")
            a.ld("a", [pos])
            a.add("a", "[hl]")
            a.ld([coord], "a")
        a.ret()

        a.label("FacedCell")  # from PLAYER_FACING: sets wWalkDX/DY; e = cell index, a = kind; carry = off grid
        a.ld("a", [C.PLAYER_FACING])
        a.srl("a")
        a.srl("a")
        a.and_(3)
        a.ld("e", "a")
        a.ld("d", 0)
        self.copy_indexed((("DirDX", "wWalkDX"), ("DirDY", "wWalkDY")))  # a = wWalkDY
        # c = y + dy, then b = x + dx (b is scratch until then); off the grid (wrapped below 0 too): .off
        for delta, coord, limit, reg in (("wWalkDY", "wPosY", _GRID_H, "c"), ("wWalkDX", "wPosX", _GRID_W, "b")):
            if delta == "wWalkDX":
                a.ld("a", [delta])  # wWalkDY is in a already
            a.ld("b", "a")
            a.ld("a", [coord])
            a.add("a", "b")
            a.cp(limit)
            a.jr("nc", ".off")
            a.ld(reg, "a")
        a.jr("CellIndex")
        a.label(".off")
        a.scf()
        a.ret()

        a.label("CellIndex")  # b = x, c = y -> e = y*10 + x, a = kind, carry clear
        a.ld("a", "c")
        a.add("a", "a")
        a.add("a", "a")
        a.add("a", "c")
        a.add("a", "a")
        a.add("a", "b")
        self.index("wRoomKind")
        a.ld("a", "[hl]")
        a.and_("a")
        a.ret()

        a.label("StWalk")  # 1 px per frame; coordinates change when the walk ends, as in Red
        for d, spr in (("wWalkDX", "wSprX"), ("wWalkDY", "wSprY")):
            a.ld("a", [d])
            a.ld("b", "a")
            a.ld("a", [spr])
            a.add("a", "b")
            a.ld([spr], "a")
        a.ld("hl", "wWalkFrames")
        a.dec("[hl]")
        a.ld("a", "[hl]")
        a.ld("b", "a")
        a.inc("a")
        a.srl("a")
        a.ld([C.WALK_COUNTER], "a")
        a.ld("a", "b")
        a.and_("a")
        a.ret("nz")
        for d, coord in (("wWalkDX", "wPosX"), ("wWalkDY", "wPosY")):
            a.ld("a", [d])
            a.ld("b", "a")
            a.ld("a", [coord])
            a.add("a", "b")
            a.ld([coord], "a")
        a.call("SyncCoords")
        self.zero("wState", C.JOY_IGNORE)
        a.call("UpdateTileMap")
        # fall through: what the new tile does
        a.label("OnArrive")
        a.ld("a", ["wPosX"])
        a.ld("b", "a")
        a.ld("a", ["wPosY"])
        a.ld("c", "a")
        a.call("CellIndex")
        a.cp(KINDS["WATER"])
        a.ret("z")  # still surfing
        a.ld("b", "a")
        a.xor("a")
        a.ld([C.WALK_BIKE_SURF_STATE], "a")  # on land: surfing is over
        a.ld("a", "b")
        a.cp(KINDS["GRASS"])
        a.jp("z", "TryEncounter")
        self.run_special("EnterTable")

        a.label("TalkFacing")  # A pressed while idle: run the faced tile's talk routine
        a.call("FacedCell")
        a.ret("c")
        self.run_special("TalkTable")

        # Red's DisplayTextIDInit sets wFontLoaded's bit while a text box or the start menu is up (CloseTextDisplay
        # clears it): here, in the dialog and menu states.
        a.label("FontFlag")
        a.ld("hl", C.FONT_LOADED)
        a.res(C.BIT_FONT_LOADED, "[hl]")
        a.ld("a", ["wState"])
        for name in ("DIALOG", "NICKNAME") + MENU_STATES + (("TEXT", "YESNO", "NAMING") if self.w.red_time else ()):
            a.cp(STATES[name])
            a.jr("z", ".text")
        if self.w.red_time:  # and hWY as Red keeps it: 0 while the window is up (text, menus), 0x90 in free play
            a.cp(STATES[R.RED_TIME_STATES[0]])
            a.jr("nc", ".window")  # battle menus, the main menu
            self.store(C.H_WY, C.WY_NO_WINDOW)
        a.ret()
        a.label(".text")
        a.set(C.BIT_FONT_LOADED, "[hl]")
        if self.w.red_time:
            a.label(".window")
            a.xor("a")
            a.ldh([C.H_WY], "a")
        a.ret()

        a.label("StartDialog")  # also closes any menu
        self.store("wWindowDirty", 1)
        if self.w.red_time:
            self.say("TALK", "CloseText")
        else:
            self.enter_timed("DIALOG", DIALOG_FRAMES, ignore_input=True)
            a.ret()

        a.label("StTimed")  # intro, battle won, blackout, dialog: input ignored until the timer ends
        self.store(C.JOY_IGNORE, 0xFF)
        a.ld("hl", "wTimer")
        a.dec("[hl]")
        a.ret("nz")
        self.dispatch_state({"BATTLE_INTRO": ".intro", "BATTLE_WIN": "BattleWon", "BLACKOUT": "Blackout",
                             "PUSH": ".push", "NICKNAME": ".nickname"})
        self.zero("wState", C.JOY_IGNORE)  # dialog over
        a.ret()
        a.label(".nickname")  # the prompt is over: the starter gets its struct
        a.call("FillStarter")
        self.zero("wState", C.JOY_IGNORE)
        a.ret()
        a.label(".intro")
        self.store("wState", s["BATTLE"])
        self.store(C.JOY_IGNORE, 0)
        a.ret()
        a.label(".push")  # the boulder arrives: redraw (and the wTileMap mirror) at the end of the frame
        for src, kind in (("wPushFrom", "FLOOR"), ("wPushTo", "BOULDER")):
            a.ld("a", [src])
            self.index("wRoomKind")
            a.ld("[hl]", KINDS[kind])
        self.zero("wState", C.JOY_IGNORE)
        self.store("wRedraw", 1)
        a.ret()

    def battle(self) -> None:
        a = self.a
        base, mask = self.w.wild_levels
        a.label("TryEncounter")
        a.call("RngByte")
        a.and_(L.ENCOUNTER_ONE_IN - 1)
        a.ret("nz")
        if self.w.red_time:
            a.jp("WildBattle")
        a.call("RngByte")
        a.and_(7)
        a.ld(["wEnemyIndex"], "a")
        a.call("EnemyEntry")  # hl -> species, mask, seen lo/hi, owned lo/hi
        a.ld("a", "[hl+]")
        a.ld([C.ENEMY_MON_SPECIES], "a")
        a.ld([C.CUR_OPPONENT], "a")  # Red: a wild battle's opponent is the species
        a.ld("a", "[hl+]")
        a.ld("b", "a")
        self.mark_dex(step_past=True)  # Pokedex: seen
        a.call("RngByte")
        a.and_(mask)
        a.add("a", base)
        a.ld("b", C.BATTLE_WILD)
        a.ld("d", "a")  # the damage: the enemy's level + 0..3
        a.ld("e", 3)
        # fall through

        a.label("StartBattle")  # a = the enemy's level (HP 2 * level + 10), b = the battle type; the party mon
        # takes d + (8 random bits & e) damage
        a.ld([C.ENEMY_MON_LEVEL], "a")
        a.add("a", "a")
        a.add("a", 10)
        a.ld([C.ENEMY_MON_HP + 1], "a")
        a.ld("a", "b")
        a.ld([C.IS_IN_BATTLE], "a")
        self.zero(C.ENEMY_MON_HP, C.BATTLE_RESULT)
        self.store(C.JOY_IGNORE, 0xFF)
        a.call("RngByte")  # keeps de
        a.and_("e")
        a.add("a", "d")
        a.ld("c", "a")
        # c = the damage: the battle begins, or the party mon faints
        a.call("DamagePlayer")
        a.jr("z", ".faint")
        self.enter_timed("BATTLE_INTRO", BATTLE_INTRO_FRAMES)
        a.ret()
        a.label(".faint")
        self.store(C.BATTLE_RESULT, 1)
        self.enter_timed("BLACKOUT", BLACKOUT_FRAMES)
        a.ret()

        a.label("EnemyEntry")  # hl = EnemyTable + 8 * wEnemyIndex
        a.ld("a", ["wEnemyIndex"])
        a.add("a", "a")
        a.add("a", "a")
        a.add("a", "a")
        self.index("EnemyTable")
        a.ret()

        a.label("DamagePlayer")  # HP -= c, floored at 0; Z set when HP is 0
        a.ld("hl", C.PARTY_MON1_HP + 1)
        a.ld("a", "[hl]")
        a.sub("c")
        a.ld("[hl-]", "a")
        a.ld("a", "[hl]")
        a.sbc("a", 0)
        a.ld("[hl]", "a")
        a.jr("nc", ".check")
        a.xor("a")
        a.ld("[hl+]", "a")
        a.ld("[hl]", "a")
        a.ret()  # Z from xor a
        a.label(".check")
        a.ld("a", "[hl+]")
        a.or_("[hl]")
        a.ret()

        a.label("StBattle")  # waiting for A; the d-pad does nothing
        self.store(C.JOY_IGNORE, 0)
        a.ld("a", ["wJoyPressed"])
        if self.w.can_flee:  # B runs from a wild battle: nothing gained, the enemy keeps its HP
            a.bit(1, "a")
            a.jr("z", ".fight")
            a.ld("a", ["wTrainer"])
            a.and_("a")
            a.ret("nz")  # no running from a trainer
            self.zero(C.IS_IN_BATTLE, "wState", C.JOY_IGNORE)
            a.ret()
            a.label(".fight")
            a.ld("a", ["wJoyPressed"])
        a.bit(0, "a")
        a.ret("z")
        self.enter_timed("BATTLE_WIN", BATTLE_WIN_FRAMES, ignore_input=True)
        a.ret()

        a.label("BattleWon")  # a trainer's event (and badge); level +1, max HP +3 (HP too); wild: Pokedex owned
        self.zero(C.IS_IN_BATTLE, C.BATTLE_RESULT, C.ENEMY_MON_HP, C.ENEMY_MON_HP + 1, "wState", C.JOY_IGNORE)
        if self.w.trainers:
            self.trainer_won(".wild")
            a.jr(".levelup")
            a.label(".wild")
        self.mark_owned()
        a.label(".levelup")
        a.ld("a", [C.PARTY_MON1_LEVEL])
        a.cp(100)
        a.ret("nc")
        a.inc("a")
        a.ld([C.PARTY_MON1_LEVEL], "a")
        for addr in (C.PARTY_MON1_MAX_HP, C.PARTY_MON1_HP):
            a.ld("hl", addr + 1)
            a.ld("a", "[hl]")
            a.add("a", 3)
            a.ld("[hl-]", "a")
            a.ld("a", "[hl]")
            a.adc("a", 0)
            a.ld("[hl]", "a")
        a.ret()

        a.label("Blackout")  # back to the last heal point, HP restored, money halved (a forgiven loss: healed only)
        self.zero(C.IS_IN_BATTLE, "wState", C.JOY_IGNORE)
        a.call("HealParty")
        if self.w.trainers:
            a.ld("a", ["wTrainer"])
            a.and_("a")
            a.jr("z", ".real")
            a.ld("b", "a")
            self.zero("wTrainer")
            a.ld("a", "b")
            a.dec("a")
            a.ld("hl", "TrainerLostTable")
            a.call("CallTable")  # a forgiven loss's routine returns with carry set
            a.ret("c")
            a.label(".real")
        a.call("HalveMoney")
        self.store(C.PLAYER_FACING, L.FACING_DOWN)
        for src, dest in (("wBlackoutRoom", "wWarpRoom"), ("wBlackoutX", "wWarpX"), ("wBlackoutY", "wWarpY")):
            a.ld("a", [src])
            a.ld([dest], "a")
        self.store("wWarpPending", 1)
        a.ret()

        a.label("HealParty")
        a.ld("a", [C.PARTY_MON1_MAX_HP])
        a.ld([C.PARTY_MON1_HP], "a")
        a.ld("a", [C.PARTY_MON1_MAX_HP + 1])
        a.ld([C.PARTY_MON1_HP + 1], "a")
        a.ret()

        a.label("HalveMoney")  # 3-byte BCD / 2, most significant byte first, carrying 100 down
        a.ld("hl", C.PLAYER_MONEY)
        a.ld("c", 0)
        a.ld("b", 3)
        a.label(".byte")
        a.ld("a", "[hl]")
        a.ld("d", "a")
        a.swap("a")
        a.and_(0x0F)
        a.ld("e", "a")
        a.add("a", "a")
        a.add("a", "a")
        a.add("a", "e")
        a.add("a", "a")  # tens digit * 10
        a.ld("e", "a")
        a.ld("a", "d")
        a.and_(0x0F)
        a.add("a", "e")
        a.add("a", "c")  # + 100 carried from the byte above (max 199)
        a.srl("a")
        a.ld("c", 0)
        a.jr("nc", ".even")
        a.ld("c", 100)
        a.label(".even")
        a.ld("e", 0)
        a.label(".tens")
        a.cp(10)
        a.jr("c", ".bcd")
        a.sub(10)
        a.inc("e")
        a.jr(".tens")
        a.label(".bcd")
        a.ld("d", "a")
        a.ld("a", "e")
        a.swap("a")
        a.or_("d")
        a.ld("[hl+]", "a")
        a.dec("b")
        a.jr("nz", ".byte")
        a.ret()

        a.label("AddMoney")  # b = middle BCD byte, c = low BCD byte
        a.ld("hl", C.PLAYER_MONEY + 2)
        a.ld("a", "[hl]")
        a.add("a", "c")
        a.daa()
        a.ld("[hl-]", "a")
        a.ld("a", "[hl]")
        a.adc("a", "b")
        a.daa()
        a.ld("[hl-]", "a")
        a.ld("a", "[hl]")
        a.adc("a", 0)
        a.daa()
        a.ld("[hl]", "a")
        a.ret()

        a.label("AddItem")  # a = item id: append (id, 1) and keep the 0xFF terminator
        a.ld("b", "a")
        a.ld("a", [C.NUM_BAG_ITEMS])
        a.cp(C.BAG_MAX_ITEMS)
        a.ret("nc")
        a.ld("c", "a")
        a.inc("a")
        a.ld([C.NUM_BAG_ITEMS], "a")
        a.ld("a", "c")
        a.add("a", "a")
        self.index(C.BAG_ITEMS)
        a.ld("a", "b")
        a.ld("[hl+]", "a")
        a.ld("a", 1)
        a.ld("[hl+]", "a")
        a.ld("a", 0xFF)
        a.ld("[hl]", "a")
        a.ret()

    def menus(self) -> None:
        """Red's start menu -> party menu -> field-move submenu, at the RAM level (docs/testworld.md)."""
        a = self.a
        s = STATES

        def enter(state: str) -> None:
            self.store("wState", s[state])
            self.store(C.JOY_IGNORE, 0)  # as in Red: menus read the joypad themselves
            self.store("wWindowDirty", 1)
            a.ret()

        def clamp_current(saved) -> None:  # c = max: CURRENT_MENU_ITEM = min([saved], c)
            a.ld("a", [saved])
            a.cp("c")
            a.jr("c", ".in_range")
            a.ld("a", "c")
            a.label(".in_range")
            a.ld([C.CURRENT_MENU_ITEM], "a")

        def save_item(saved) -> None:  # [saved] = a = CURRENT_MENU_ITEM
            a.ld("a", [C.CURRENT_MENU_ITEM])
            a.ld([saved], "a")

        def menu_input(saved=None) -> None:  # UP/DOWN move the cursor (saved there) and end the frame; a = pressed
            self.store(C.JOY_IGNORE, 0)
            a.call("MenuUpDown")
            if saved is None:
                a.ret("c")
            else:
                a.jr("nc", ".buttons")
                save_item(saved)
                a.ret()
                a.label(".buttons")
            a.ld("a", ["wJoyPressed"])

        a.label("MenuUpDown")  # newly pressed UP/DOWN move the cursor with wrap-around; carry = moved
        a.ld("a", ["wJoyPressed"])
        a.bit(6, "a")
        a.jr("nz", ".up")
        a.bit(7, "a")
        a.jr("nz", ".down")
        a.and_("a")  # no carry
        a.ret()
        a.label(".up")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.and_("a")
        a.jr("z", ".to_last")
        a.dec("a")
        a.jr(".store")
        a.label(".to_last")
        a.ld("a", ["wMenuLast"])
        a.jr(".store")
        a.label(".down")
        a.ld("a", ["wMenuLast"])
        a.ld("b", "a")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.cp("b")
        a.jr("nc", ".to_first")
        a.inc("a")
        a.jr(".store")
        a.label(".to_first")
        a.xor("a")
        a.label(".store")
        a.ld([C.CURRENT_MENU_ITEM], "a")
        self.store("wWindowDirty", 1)
        a.scf()
        a.ret()

        a.label("CloseMenus")
        enter("IDLE")

        a.label("PokemonItem")  # c = the start menu's POKEMON entry: 1 with the Pokedex, else 0
        a.ld("c", 0)
        self.test_event("EVENT_GOT_POKEDEX")
        a.ret("z")
        a.inc("c")
        a.ret()

        a.label("OpenStartMenu")
        a.call("PokemonItem")
        a.ld("a", C.START_MENU_ITEMS_WITH_POKEDEX - 2)
        a.add("a", "c")  # the last item: 6 with the Pokedex, 5 without
        a.ld(["wMenuLast"], "a")
        a.ld("c", "a")
        a.inc("a")  # Red keeps the start menu's item count in wMaxMenuItem
        a.ld([C.MAX_MENU_ITEM], "a")
        clamp_current(C.START_MENU_SAVED_ITEM)
        enter("START_MENU")

        a.label("StStartMenu")
        menu_input(C.START_MENU_SAVED_ITEM)
        a.bit(0, "a")  # A
        a.jr("nz", ".a")
        a.and_(0x0A)  # B or START
        a.ret("z")
        save_item(C.START_MENU_SAVED_ITEM)  # Red saves the item on every button it acts on
        a.jp("CloseMenus")
        a.label(".a")
        save_item(C.START_MENU_SAVED_ITEM)
        a.ld("b", "a")
        a.call("PokemonItem")
        if self.w.battery_save:  # SAVE: three items after POKEMON
            a.ld("a", "c")
            a.add("a", 3)
            a.cp("b")
            a.jp("z", "SaveMenu")
        a.ld("a", "b")
        a.cp("c")
        a.jp("nz", "CloseMenus")  # POKEDEX, ITEM, RED, SAVE, OPTION, EXIT: nothing to do here
        # fall through
        a.label("OpenPartyMenu")
        a.ld("a", [C.PARTY_COUNT])
        a.and_("a")
        a.jr("z", ".empty")
        a.dec("a")
        a.label(".empty")
        a.ld("c", "a")
        a.ld([C.MAX_MENU_ITEM], "a")
        a.ld(["wMenuLast"], "a")
        clamp_current(C.PARTY_MENU_SAVED_ITEM)
        enter("PARTY_MENU")

        a.label("StPartyMenu")
        menu_input(C.PARTY_MENU_SAVED_ITEM)
        a.bit(1, "a")  # B: back to the start menu
        a.jp("nz", "OpenStartMenu")
        a.bit(0, "a")
        a.ret("z")
        save_item(C.PARTY_MENU_SAVED_ITEM)
        a.ld([C.WHICH_POKEMON], "a")
        # FIELD_MOVES: the mon's field moves in move-slot order, zero-filled; read live from the party data
        a.ld("hl", C.PARTY_MON1_MOVES)
        a.ld("de", C.PARTY_MON_STRIDE)
        a.inc("a")
        a.ld("b", "a")
        a.label(".mon")
        a.dec("b")
        a.jr("z", ".moves")
        a.add("hl", "de")
        a.jr(".mon")
        a.label(".moves")
        a.ld("de", C.FIELD_MOVES)
        a.ld("bc", 4 << 8)  # b = slots left, c = field moves found
        a.label(".slot")
        a.ld("a", "[hl+]")
        a.push("hl")
        a.push("bc")
        a.call("FieldMoveIndex")
        a.pop("bc")
        a.pop("hl")
        a.and_("a")
        a.jr("z", ".next")
        a.ld("[de]", "a")
        a.inc("de")
        a.inc("c")
        a.label(".next")
        a.dec("b")
        a.jr("nz", ".slot")
        a.ld("a", "c")
        a.ld([C.NUM_FIELD_MOVES], "a")
        a.add("a", 2)  # then STATS, SWITCH, CANCEL
        a.ld([C.MAX_MENU_ITEM], "a")
        a.ld(["wMenuLast"], "a")
        a.label(".fill")
        a.ld("a", "c")
        a.cp(4)
        a.jr("nc", ".filled")
        a.xor("a")
        a.ld("[de]", "a")
        a.inc("de")
        a.inc("c")
        a.jr(".fill")
        a.label(".filled")
        a.xor("a")
        a.ld([C.CURRENT_MENU_ITEM], "a")
        enter("FIELD_MENU")

        a.label("FieldMoveIndex")  # a = move id -> a = its FIELD_MOVE_* index, or 0
        a.ld("b", "a")
        a.ld("hl", "FieldMoveTable")
        a.ld("c", len(_FIELD_MOVES))
        a.label(".loop")
        a.ld("a", "[hl+]")
        a.cp("b")
        a.jr("z", ".found")
        a.inc("hl")
        a.dec("c")
        a.jr("nz", ".loop")
        a.xor("a")
        a.ret()
        a.label(".found")
        a.ld("a", "[hl]")
        a.ret()

        a.label("StFieldMenu")
        menu_input()
        a.bit(1, "a")  # B: back to the party menu
        a.jp("nz", "OpenPartyMenu")
        a.bit(0, "a")
        a.ret("z")
        a.ld("a", ["wMenuLast"])
        a.ld("b", "a")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.cp("b")
        a.jp("z", "OpenPartyMenu")  # CANCEL
        a.ld("c", "a")
        a.ld("a", [C.NUM_FIELD_MOVES])
        a.ld("b", "a")
        a.ld("a", "c")
        a.cp("b")
        a.ret("nc")  # STATS, SWITCH: nothing happens
        self.index(C.FIELD_MOVES)
        a.ld("a", "[hl]")
        self.jump_on_a(((C.FIELD_MOVE_CUT, ".cut"), (C.FIELD_MOVE_SURF, ".surf")))
        a.cp(C.FIELD_MOVE_STRENGTH)
        a.jp("nz", "CloseMenus")  # FLY, FLASH, DIG, TELEPORT, SOFTBOILED: nothing in this world
        a.ld("a", [C.OBTAINED_BADGES])
        a.bit(C.BIT_RAINBOWBADGE, "a")
        a.jp("z", "StartDialog")
        a.ld("hl", C.STATUS_FLAGS1)
        a.set(C.BIT_STRENGTH_ACTIVE, "[hl]")
        a.jp("StartDialog")
        a.label(".cut")
        a.ld("a", [C.OBTAINED_BADGES])
        a.bit(C.BIT_CASCADEBADGE, "a")
        a.jp("z", "StartDialog")
        a.call("FacedCell")  # hl -> the faced cell's kind
        a.jp("c", "StartDialog")
        a.cp(KINDS["CUT_TREE"])
        a.jp("nz", "StartDialog")
        a.ld("[hl]", KINDS["FLOOR"])
        self.store("wRedraw", 1)
        a.jp("StartDialog")
        a.label(".surf")
        a.ld("a", [C.OBTAINED_BADGES])
        a.bit(C.BIT_SOULBADGE, "a")
        a.jp("z", "StartDialog")
        a.call("FacedCell")
        a.jp("c", "StartDialog")
        a.cp(KINDS["WATER"])
        a.jp("nz", "StartDialog")
        self.store(C.WALK_BIKE_SURF_STATE, C.SURF_STATE_SURFING)
        a.jp("StartDialog")

    def special_routines(self) -> None:
        """One small routine per special tile, generated from the layout records."""
        a = self.a
        if self.w.red_time:
            self.red_time_specials()
            return
        for i, sp in enumerate(self.specials):
            if isinstance(sp, L.Blocker):
                continue  # solid: nothing to enter or to say
            if isinstance(sp, L.Npc):
                a.label(f"Talk{i}")
                for k, talk in enumerate(sp.talks):
                    nxt = f".next{k}"
                    self.test_event(talk.event)
                    a.jr("nz", nxt)  # already done: look at the next talk
                    for req in talk.requires:
                        self.test_event(req)
                        a.jp("z", "StartDialog")  # not yet possible: just talk
                    self.set_event(talk.event)
                    a.jp("StartDialog")
                    a.label(nxt)
                a.jp("StartDialog")
                continue
            a.label(f"Enter{i}")
            if isinstance(sp, L.Door):
                self.set_warp(sp.dest_room, sp.dest_xy)
                a.ret()
            elif isinstance(sp, L.Trigger):
                for req in sp.requires:
                    self.test_event(req)
                    a.ret("z")
                once = sp.warp is not None or sp.gives_starter or sp.reload
                if once:
                    self.test_event(sp.event)
                    a.ret("nz")
                self.set_event(sp.event)
                if sp.gives_starter:
                    a.call("ListStarter")
                    self.enter_timed("NICKNAME", NICKNAME_FRAMES, ignore_input=True)
                if sp.warp is not None:
                    self.set_warp(sp.warp[0], sp.warp[1])
                elif sp.reload:
                    self.set_warp(sp.room, sp.xy)
                a.ret()
            elif isinstance(sp, L.Trainer):
                self.test_event(sp.event)
                a.ret("nz")
                for req in sp.requires:
                    self.test_event(req)
                    a.ret("z")
                self.store("wTrainer", self.w.trainers.index(sp) + 1)
                self.store(C.CUR_OPPONENT, sp.opponent)
                self.store(C.ENEMY_MON_SPECIES, 0)
                a.ld("b", C.BATTLE_TRAINER)
                a.ld("d", sp.damage)
                a.ld("e", sp.spread)
                a.ld("a", sp.level)
                a.jp("StartBattle")
            elif isinstance(sp, L.Gym):
                for req in sp.requires:
                    self.test_event(req)
                    a.ret("z")
                self.set_event(sp.event)
                a.ld("hl", C.OBTAINED_BADGES)
                a.set(sp.badge_bit, "[hl]")
                a.ret()
            elif isinstance(sp, L.Heal):
                self.heal_spawn(sp)
                a.jp("HealParty")
            elif isinstance(sp, L.Pickup):
                self.test_event(sp.event)
                a.ret("nz")
                self.pickup_effect(sp)
                self.store("wRedraw", 1)
                a.ret()
            else:  # pragma: no cover - layout.validate() rejects unknown records
                raise TypeError(sp)
        self.trainer_outcomes()

    def red_time_specials(self) -> None:
        """The special tiles of a red_time world: each speaks first (the world's speech for its event, when it has
        one), and what it does happens when the speech is over, as Red's scripts set their events after the text."""
        a, w = self.a, self.w
        speeches = w.speech_table()

        def maybe_say(key: str, then: str) -> None:  # the speech, or straight on when there is none
            if key in speeches:
                self.say(key, then)
            else:
                a.jp(then)

        for i, sp in enumerate(self.specials):
            if isinstance(sp, L.Blocker):
                continue
            if isinstance(sp, L.Npc):
                a.label(f"Talk{i}")
                for k, talk in enumerate(sp.talks):
                    nxt = f".next{k}"
                    self.test_event(talk.event)
                    a.jr("nz", nxt)
                    for req in talk.requires:
                        self.test_event(req)
                        a.jp("z", "StartDialog")
                    maybe_say(talk.event, f"Talked{i}_{k}")
                    a.label(nxt)
                a.jp("StartDialog")
                for k, talk in enumerate(sp.talks):
                    a.label(f"Talked{i}_{k}")
                    self.set_event(talk.event)
                    a.jp("CloseText")
                continue
            a.label(f"Enter{i}")
            if isinstance(sp, L.Door):
                self.set_warp(sp.dest_room, sp.dest_xy)
                a.ret()
            elif isinstance(sp, L.Trigger):
                for req in sp.requires:
                    self.test_event(req)
                    a.ret("z")
                self.test_event(sp.event)
                a.ret("nz")
                maybe_say(sp.event, f"Triggered{i}")
                a.label(f"Triggered{i}")
                if sp.gives_starter:  # Oak: "So! You want X?" YES/NO
                    a.ld("de", f"StarterAnswer{i}")
                    a.jp("AskYesNo")
                    a.label(f"StarterAnswer{i}")
                    a.jp("c", "CloseText")  # NO: the ball stays on the table
                    self.set_event(sp.event)
                    a.call("ListStarter")
                    self.say("STARTER_RECEIVED", f"NicknameAsk{i}")
                    a.label(f"NicknameAsk{i}")
                    self.say("NICKNAME_ASK", f"Nickname{i}")
                    a.label(f"Nickname{i}")
                    a.ld("de", f"NicknameAnswer{i}")
                    a.jp("AskYesNo")
                    a.label(f"NicknameAnswer{i}")
                    a.ld("de", f"Named{i}")
                    a.jp("nc", "OpenNaming")
                    a.call("DefaultNick")
                    a.label(f"Named{i}")
                    a.call("FillStarter")
                else:
                    self.set_event(sp.event)
                if sp.warp is not None:
                    self.set_warp(sp.warp[0], sp.warp[1])
                elif sp.reload:
                    self.set_warp(sp.room, sp.xy)
                a.jp("CloseText")
            elif isinstance(sp, L.Trainer):
                self.test_event(sp.event)
                a.ret("nz")
                for req in sp.requires:
                    self.test_event(req)
                    a.ret("z")
                maybe_say(sp.event, f"Challenge{i}")
                a.label(f"Challenge{i}")
                self.store("wTrainer", w.trainers.index(sp) + 1)
                self.store(C.CUR_OPPONENT, sp.opponent)
                self.store(C.ENEMY_MON_SPECIES, 0)
                self.store("wCalcLevel", sp.level)
                a.ld("a", len(w.encounters) + w.trainers.index(sp))
                a.call("SetupEnemy")
                a.ld("b", C.BATTLE_TRAINER)
                a.jp("BeginBattle")
            elif isinstance(sp, L.Heal):
                self.say("HEAL", f"Healed{i}")
                a.label(f"Healed{i}")
                self.heal_spawn(sp)
                a.call("HealParty")
                a.jp("CloseText")
            elif isinstance(sp, L.Pickup):
                self.test_event(sp.event)
                a.ret("nz")
                self.say(sp.event if sp.event in speeches else "ITEM", f"PickedUp{i}")
                a.label(f"PickedUp{i}")
                self.pickup_effect(sp)
                a.jp("CloseText")
            else:
                raise TypeError(f"{type(sp).__name__} has no red_time routine")
        self.trainer_outcomes()

    def heal_spawn(self, sp: L.Heal) -> None:
        """A heal tile with a spawn becomes the last heal point, as a Pokemon Center is."""
        if sp.spawn is not None:
            spawn_room, (sx, sy) = sp.spawn
            self.store("wBlackoutRoom", self.room_index[spawn_room])
            self.store("wBlackoutX", sx)
            self.store("wBlackoutY", sy)
            self.store(C.LAST_BLACKOUT_MAP, self.w.room(spawn_room).map_id)

    def pickup_effect(self, sp: L.Pickup) -> None:
        """The pickup's event, item and money; its tile is floor from now on (LoadRoom agrees)."""
        a = self.a
        self.set_event(sp.event)
        a.ld("a", sp.item)
        a.call("AddItem")
        money = _bcd3(sp.money)
        if money[0]:
            raise ValueError("pickup money must be below 10000")
        a.ld("b", money[1])
        a.ld("c", money[2])
        a.call("AddMoney")
        idx = sp.xy[1] * _GRID_W + sp.xy[0]
        self.store(PRIVATE_RAM["wRoomKind"] + idx, KINDS["FLOOR"])
        self.store(PRIVATE_RAM["wRoomSpecial"] + idx, 0)

    def trainer_outcomes(self) -> None:
        """TrainerWon<i> for every trainer, TrainerLost<i> for a forgiven one (it returns with carry set)."""
        a = self.a
        for i, t in enumerate(self.w.trainers):
            a.label(f"TrainerWon{i}")
            self.set_event(t.event)
            if t.badge_bit is not None:
                a.ld("hl", C.OBTAINED_BADGES)
                a.set(t.badge_bit, "[hl]")
            if t.forgiven:  # Red heals the party after the lab battle, won or lost
                a.call("HealParty")
            # A person waiting for this win (Oak beside the champion) steps aside at once: the room is loaded again.
            steps_aside = any(b.event == t.event and b.room == t.room for b in self.w.blockers)
            if steps_aside:
                self.set_warp(t.room, t.xy)
            a.ret()
            if t.forgiven:
                a.label(f"TrainerLost{i}")
                self.set_event(t.event)
                if steps_aside:
                    self.set_warp(t.room, t.xy)
                a.scf()
                a.ret()

    def data(self) -> None:
        a = self.a
        a.label("DirDX")  # indexed by facing / 4: down, up, left, right
        a.db(0, 0, 0xFF, 1)
        a.label("DirDY")
        a.db(1, 0xFF, 0, 0)
        a.label("RoomMapIds")
        a.db(*[r.map_id for r in self.rooms])
        a.label("RoomTilesets")
        a.db(*[r.tileset for r in self.rooms])
        a.label("RoomOffX")
        a.db(*[r.offset[0] for r in self.rooms])
        a.label("RoomOffY")
        a.db(*[r.offset[1] for r in self.rooms])
        a.label("TileMapIds")
        a.db(*[TILE_MAP_IDS[k] for k, _ in sorted(KINDS.items(), key=lambda kv: kv[1])])
        a.label("FieldMoveTable")
        for move, index in _FIELD_MOVES:
            a.db(move, index)
        a.label("WindowXByState")
        menu_x = {"START_MENU": START_MENU_X, "PARTY_MENU": PARTY_MENU_X, "FIELD_MENU": FIELD_MENU_X}
        a.db(*[menu_x[name] + 7 if name in menu_x else 0 for name, _ in sorted(_BASE_STATES.items(), key=lambda kv: kv[1])])
        a.label("WindowMap")
        a.db(*[t for row in window_map() for t in row])
        a.label("RoomDataPtrs")
        a.dw(*[f"RoomData{i}" for i in range(len(self.rooms))])
        special_no = {(sp.room, sp.xy): i + 1 for i, sp in enumerate(self.specials)}
        for i, r in enumerate(self.rooms):
            kinds, numbers = [], []
            for y in range(_GRID_H):
                for x in range(_GRID_W):
                    inside = x < r.width and y < r.height
                    kinds.append(KINDS[_KIND_OF_CHAR[r.rows[y][x]]] if inside else KINDS["VOID"])
                    numbers.append(special_no.get((r.name, (x, y)), 0) if inside else 0)
            a.label(f"RoomData{i}")
            a.db(kinds)
            a.db(numbers)
        a.label("EnterTable")
        a.dw(*[0 if isinstance(sp, (L.Npc, L.Blocker)) else f"Enter{i}" for i, sp in enumerate(self.specials)])
        if self.w.trainers:
            a.label("TrainerWonTable")
            a.dw(*[f"TrainerWon{i}" for i in range(len(self.w.trainers))])
            a.label("TrainerLostTable")
            a.dw(*[f"TrainerLost{i}" if t.forgiven else 0 for i, t in enumerate(self.w.trainers)])
        a.label("TalkTable")
        a.dw(*[f"Talk{i}" if isinstance(sp, L.Npc) else 0 for i, sp in enumerate(self.specials)])
        a.label("EnemyTable")
        for sp in self.w.encounters:
            byte, mask = (sp.dex - 1) // 8, 1 << ((sp.dex - 1) % 8)
            a.db(sp.species_id, mask)
            a.dw(C.POKEDEX_SEEN + byte, C.POKEDEX_OWNED + byte)
            a.db(0, 0)
        art = tile_pixels()
        a.label("BgTiles")
        for name, _ in sorted(KINDS.items(), key=lambda kv: kv[1]):
            a.db(_tiles_2bpp(art[name]))
        for tile in _WIN_ART.values():
            a.db(_tile8_2bpp(tile))
        a.label("SpriteTiles")
        for facing in (L.FACING_DOWN, L.FACING_UP, L.FACING_LEFT, L.FACING_RIGHT):
            a.db(_tiles_2bpp(art[f"PLAYER_{facing}"]))
        if self.w.red_time:
            a.label("RedTiles")
            for tile in _RED_ART.values():
                a.db(_tile8_2bpp(tile))

    def say(self, speech: str, then: str) -> None:
        """Start speech ``speech`` (a key of the world's speech table or redtime.BATTLE_TEXT); ``then`` runs after
        it. Jumps: the routine ends here."""
        self.a.ld("hl", f"Speech_{speech.replace(':', '_')}")
        self.a.ld("de", then)
        self.a.jp("Say")

    def build(self) -> bytes:
        self.vectors()
        self.boot()
        self.init_game()
        self.library()
        self.video()
        self.movement()
        self.battle()
        self.menus()
        self.special_routines()
        self.data()
        if self.w.red_time:
            R.emit(self)
        if self.w.battery_save:
            SG.emit(self)
            return self.a.rom(title=self.w.title, cart_type=CART_MBC3_RAM_BATTERY)
        return self.a.rom(title=self.w.title)


def _bcd3(value: int) -> tuple[int, int, int]:
    """A number 0..999999 as Red's 3-byte big-endian BCD."""
    if not 0 <= value <= 999999:
        raise ValueError(f"money {value} does not fit 3 BCD bytes")
    digits = f"{value:06d}"
    return tuple(int(digits[i]) << 4 | int(digits[i + 1]) for i in (0, 2, 4))


def build_rom(world: L.World = L.TEST) -> bytes:
    """The ROM image of a world (32 KiB, deterministic): the test world unless another is given."""
    return _World(world).build()
