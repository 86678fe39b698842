#!/usr/bin/env python3
"""Generate pokerl_fast/game/constants.py and csrc/red_constants.h from ../shared/data.

The reference files (WRAM symbols, event flags, maps with global Kanto offsets,
required events) are facts about Pokemon Red; this script turns them into the
project's own tables so that Python and C++ read one source of addresses and sizes.
It also writes the Game Boy's memory map and the observation's sizes, so that no
other file spells them as literals (tests/test_one_source.py checks that).

Every scalar fact is one Fact in one ordered list (`facts`); two small formatters
write it as Python (`NAME = value`) and as C++ (`constexpr int NAME = value;` in
namespace pokerl::red). Only the tables differ by language (dicts and tuples for
Python, fixed arrays for C++).

    python scripts/gen_constants.py [--data DIR] [--check]

--check exits 1 when the committed files differ from what would be generated.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import textwrap
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
PY_OUT = ROOT / "pokerl_fast" / "game" / "constants.py"
H_OUT = ROOT / "csrc" / "red_constants.h"

# The addresses the project reads, by the symbol name Red's disassembly gives them.
# Python name -> WRAM symbol.
NAMED = {
    "CUR_MAP": "wCurMap",
    "Y_COORD": "wYCoord",
    "X_COORD": "wXCoord",
    "OBTAINED_BADGES": "wObtainedBadges",
    "PARTY_COUNT": "wPartyCount",
    "PARTY_SPECIES": "wPartySpecies",
    "PARTY_MON1_HP": "wPartyMon1HP",
    "PARTY_MON1_SPECIES": "wPartyMon1Species",
    "PARTY_MON1_LEVEL": "wPartyMon1Level",
    "PARTY_MON1_MAX_HP": "wPartyMon1MaxHP",
    "EVENT_FLAGS": "wEventFlags",
    "IS_IN_BATTLE": "wIsInBattle",
    "PLAYER_MONEY": "wPlayerMoney",
    "NUM_BAG_ITEMS": "wNumBagItems",
    "BAG_ITEMS": "wBagItems",
    "POKEDEX_OWNED": "wPokedexOwned",
    "POKEDEX_SEEN": "wPokedexSeen",
    "JOY_IGNORE": "wJoyIgnore",
    "WALK_COUNTER": "wWalkCounter",
    "PLAYER_FACING": "wSpritePlayerStateData1FacingDirection",
    "BATTLE_RESULT": "wBattleResult",
    "ENEMY_MON_SPECIES": "wEnemyMonSpecies",
    "ENEMY_MON_HP": "wEnemyMonHP",
    "ENEMY_MON_LEVEL": "wEnemyMonLevel",
    "LAST_BLACKOUT_MAP": "wLastBlackoutMap",
    "MAP_PAL_OFFSET": "wMapPalOffset",
    # Menus, the screen tile map and the field-move state, for the auto-HM helper.
    "TILE_MAP": "wTileMap",
    "CURRENT_MENU_ITEM": "wCurrentMenuItem",
    "TOP_MENU_ITEM_X": "wTopMenuItemX",
    "TOP_MENU_ITEM_Y": "wTopMenuItemY",
    "MAX_MENU_ITEM": "wMaxMenuItem",
    "PARTY_MENU_SAVED_ITEM": "wPartyAndBillsPCSavedMenuItem",
    "START_MENU_SAVED_ITEM": "wBattleAndStartSavedMenuItem",
    "FIELD_MOVES": "wFieldMoves",
    "NUM_FIELD_MOVES": "wNumFieldMoves",
    "WHICH_POKEMON": "wWhichPokemon",
    "PARTY_MON1_MOVES": "wPartyMon1Moves",
    "CUR_MAP_TILESET": "wCurMapTileset",
    "WALK_BIKE_SURF_STATE": "wWalkBikeSurfState",
    "STATUS_FLAGS1": "wStatusFlags1",
    # Battles: who the opponent is (Red's HandlePlayerBlackOut forgives a loss to OPP_RIVAL1 in Oak's lab).
    "CUR_OPPONENT": "wCurOpponent",
    # Scenes (the stuck rule reads them): a text box or menu is up (wFontLoaded), the battle's HP values.
    "FONT_LOADED": "wFontLoaded",
    "BATTLE_MON_HP": "wBattleMonHP",
    # Free play (red.check_in_control): what Red sets once the overworld loop waits for input. hWY is the window's
    # line as the game keeps it (0x90: no window; 0 while the intro, a menu or a text box shows it);
    # wUpdateSpritesEnabled is 0xFF from power-on until the intro's end or the first map load, then 1.
    "H_WY": "hWY",
    "UPDATE_SPRITES_ENABLED": "wUpdateSpritesEnabled",
    "STATUS_FLAGS5": "wStatusFlags5",
    # The battery save (Red's SaveSAVtoSRAM copies these to cartridge RAM, LoadSAV back).
    "PLAYER_NAME": "wPlayerName",
    "PARTY_DATA_START": "wPartyDataStart",
    "MAIN_DATA_START": "wMainDataStart",
    "MAIN_DATA_END": "wMainDataEnd",
    "BOX_DATA_END": "wBoxDataEnd",
    "SPRITE_DATA_START": "wSpriteDataStart",
    "SPRITE_DATA_END": "wSpriteDataEnd",
    "H_TILE_ANIMATIONS": "hTileAnimations",
}
# Key items and HMs (the reward's key_items term), from pret/pokered constants/item_constants.asm and
# data/items/key_items.asm: TOWN_MAP BICYCLE OLD_AMBER DOME_FOSSIL HELIX_FOSSIL SECRET_KEY BIKE_VOUCHER CARD_KEY
# S_S_TICKET GOLD_TEETH COIN_CASE OAKS_PARCEL ITEMFINDER SILPH_SCOPE POKE_FLUTE LIFT_KEY OLD_ROD GOOD_ROD
# SUPER_ROD, then HM01-HM05. (Key-flagged ids that never sit in the bag, and the consumable Safari Ball, are left out.)
KEY_ITEMS = (0x05, 0x06, 0x1F, 0x29, 0x2A, 0x2B, 0x2D, 0x30, 0x3F, 0x40, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A,
             0x4C, 0x4D, 0x4E, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8)
# Event flags native code tests by name: NAME -> NAME_ADDR, NAME_BIT (in both outputs).
NAMED_EVENTS = ("EVENT_GOT_POKEDEX", "EVENT_BEAT_CHAMPION_RIVAL")
# Map completion: map name -> the events a visit to that map is for (the explore_boost mechanic pays boosted
# exploration on a map until all of its events are set). Checked against Red's disassembly (pret/pokered
# scripts/*.asm; notes in docs/learning.md): each event is set by the map's own script (Oak's lab: starter, rival,
# parcel, Pokedex; Viridian's mart: the parcel; each gym its leader; Bill's house the Cell Separator scenes and
# the S.S. Ticket; Route 25's loader once you leave Bill's; Route 24's Nugget after its bridge trainers), or it is
# the gate the map's script checks before it lets you on (Viridian's old man wants the Pokedex, Pewter's east exit
# Brock's badge), or a dungeon's objective on every floor (Mt. Moon's exit super nerd on B2F). Routes with
# nothing on the critical path (1-4) have no entry, nor do Routes 22/23 (critical only after 7-8 badges: a boost
# there would lure the agent into a dead end). Every event must be in event-flags.tsv; maps not listed count
# as finished (no boost).
MAP_COMPLETION_EVENTS = {
    "PALLET_TOWN": ("EVENT_FOLLOWED_OAK_INTO_LAB",),  # set in OaksLab.asm; own-map twin: EVENT_OAK_APPEARED_IN_PALLET
    "OAKS_LAB": ("EVENT_FOLLOWED_OAK_INTO_LAB_2", "EVENT_OAK_ASKED_TO_CHOOSE_MON", "EVENT_GOT_STARTER",
                 "EVENT_BATTLED_RIVAL_IN_OAKS_LAB", "EVENT_OAK_GOT_PARCEL", "EVENT_GOT_POKEDEX"),
    "VIRIDIAN_CITY": ("EVENT_GOT_POKEDEX",),  # gate: ViridianCity.asm's old man blocks the north exit until it is set
    "VIRIDIAN_MART": ("EVENT_GOT_OAKS_PARCEL",),
    "VIRIDIAN_GYM": ("EVENT_BEAT_VIRIDIAN_GYM_GIOVANNI",),
    "VIRIDIAN_FOREST": ("EVENT_BEAT_VIRIDIAN_FOREST_TRAINER_2",),  # exit Bug Catcher (2,18), unavoidable
    "PEWTER_CITY": ("EVENT_BEAT_BROCK",),  # gate: PewterCity.asm's east-exit check
    "PEWTER_GYM": ("EVENT_BEAT_BROCK",),
    "MT_MOON_1F": ("EVENT_BEAT_MT_MOON_EXIT_SUPER_NERD",),  # dungeon objective (set on B2F)
    "MT_MOON_B1F": ("EVENT_BEAT_MT_MOON_EXIT_SUPER_NERD",),  # dungeon objective (set on B2F)
    "MT_MOON_B2F": ("EVENT_BEAT_MT_MOON_EXIT_SUPER_NERD",),
    "CERULEAN_CITY": ("EVENT_BEAT_CERULEAN_RIVAL", "EVENT_BEAT_CERULEAN_ROCKET_THIEF"),
    "CERULEAN_GYM": ("EVENT_BEAT_MISTY",),
    "ROUTE_24": ("EVENT_GOT_NUGGET",),  # Nugget Bridge: 5 unavoidable trainers, then the Rocket's trigger at (10,15)
    "ROUTE_25": ("EVENT_LEFT_BILLS_HOUSE_AFTER_HELPING",),  # set by Route25.asm's loader after the S.S. Ticket
    "BIKE_SHOP": ("EVENT_GOT_BICYCLE",),
    "BILLS_HOUSE": ("EVENT_MET_BILL", "EVENT_BILL_SAID_USE_CELL_SEPARATOR", "EVENT_USED_CELL_SEPARATOR_ON_BILL",
                    "EVENT_MET_BILL_2", "EVENT_GOT_SS_TICKET"),
    "POKEMON_FAN_CLUB": ("EVENT_GOT_BIKE_VOUCHER",),
    "SS_ANNE_CAPTAINS_ROOM": ("EVENT_RUBBED_CAPTAINS_BACK", "EVENT_GOT_HM01"),
    "VERMILION_GYM": ("EVENT_1ST_LOCK_OPENED", "EVENT_2ND_LOCK_OPENED", "EVENT_BEAT_LT_SURGE"),
    "CELADON_GYM": ("EVENT_BEAT_ERIKA",),
    "GAME_CORNER": ("EVENT_FOUND_ROCKET_HIDEOUT",),
    "ROCKET_HIDEOUT_B4F": ("EVENT_ROCKET_HIDEOUT_4_DOOR_UNLOCKED", "EVENT_ROCKET_DROPPED_LIFT_KEY",
                           "EVENT_BEAT_ROCKET_HIDEOUT_GIOVANNI"),
    "POKEMON_TOWER_2F": ("EVENT_BEAT_POKEMON_TOWER_RIVAL",),
    "POKEMON_TOWER_6F": ("EVENT_BEAT_GHOST_MAROWAK",),
    "POKEMON_TOWER_7F": ("EVENT_RESCUED_MR_FUJI_2",),
    "MR_FUJIS_HOUSE": ("EVENT_GOT_POKE_FLUTE",),
    "FUCHSIA_GYM": ("EVENT_BEAT_KOGA",),
    "WARDENS_HOUSE": ("EVENT_GAVE_GOLD_TEETH", "EVENT_GOT_HM04"),
    "SAFARI_ZONE_SECRET_HOUSE": ("EVENT_GOT_HM03",),
    "SAFFRON_GYM": ("EVENT_BEAT_SABRINA",),
    "SILPH_CO_7F": ("EVENT_BEAT_SILPH_CO_RIVAL",),
    "SILPH_CO_11F": ("EVENT_BEAT_SILPH_CO_GIOVANNI",),
    "CINNABAR_GYM": ("EVENT_BEAT_BLAINE",),
    "LORELEIS_ROOM": ("EVENT_BEAT_LORELEIS_ROOM_TRAINER_0",),
    "BRUNOS_ROOM": ("EVENT_BEAT_BRUNOS_ROOM_TRAINER_0",),
    "AGATHAS_ROOM": ("EVENT_BEAT_AGATHAS_ROOM_TRAINER_0",),
    "LANCES_ROOM": ("EVENT_BEAT_LANCE",),
    "CHAMPIONS_ROOM": ("EVENT_BEAT_CHAMPION_RIVAL",),
}
# Facts from Red's disassembly that the symbol table does not carry as sizes.
PARTY_MON_STRIDE = 0x2C  # bytes between wPartyMon1 and wPartyMon2
PARTY_MAX = 6
EVENT_FLAGS_BYTES = 320  # wEventFlags .. wEventFlags + 319 (0xD747-0xD886)
POKEDEX_BYTES = 19  # 151 bits
BAG_MAX_ITEMS = 20

# The Game Boy's memory map (Pan Docs): (name, value, what it is). Hardware facts, the same for every game.
MEMORY_MAP = (
    ("WRAM_BASE", 0xC000, "work RAM 0xC000-0xDFFF: Red's w* symbols"),
    ("WRAM_SIZE", 0x2000, ""),
    ("HRAM_BASE", 0xFF80, "high RAM 0xFF80-0xFFFE"),
    ("HRAM_SIZE", 0x7F, ""),
    ("VRAM_BASE", 0x8000, "video RAM bank 0, 0x8000-0x9FFF: tile data and the two tile maps"),
    ("VRAM_SIZE", 0x2000, ""),
    ("OAM_BASE", 0xFE00, "object attribute memory 0xFE00-0xFE9F: 40 sprites of 4 bytes"),
    ("OAM_SIZE", 0xA0, ""),
)
# The screen as PyBoy hands it over: rows, columns, bytes per pixel (RGBA).
SCREEN_H, SCREEN_W, SCREEN_CHANNELS = 144, 160, 4

# Facts for the field moves (HMs), from Red's disassembly (pret/pokered: constants/move_constants.asm,
# data/moves/field_moves.asm, engine/menus/start_sub_menus.asm, engine/overworld/cut.asm,
# constants/tileset_constants.asm). Name -> value; the same names go to Python and C++.
HM_FACTS = {
    "TILE_MAP_WIDTH": 20,             # wTileMap is the 20x18 screen, one byte per 8x8 tile
    "TILE_MAP_HEIGHT": 18,
    "MOVE_CUT": 0x0F, "MOVE_FLY": 0x13, "MOVE_SURF": 0x39, "MOVE_STRENGTH": 0x46, "MOVE_FLASH": 0x94,
    "MOVE_DIG": 0x5B, "MOVE_TELEPORT": 0x64, "MOVE_SOFTBOILED": 0x87,
    # wFieldMoves holds, per field move the mon knows (in move-slot order), its FieldMoveDisplayData
    # name index; the field-move submenu lists them first, then STATS, SWITCH, CANCEL.
    "FIELD_MOVE_CUT": 1, "FIELD_MOVE_FLY": 2, "FIELD_MOVE_SURF": 4, "FIELD_MOVE_STRENGTH": 5,
    "FIELD_MOVE_FLASH": 6, "FIELD_MOVE_DIG": 7, "FIELD_MOVE_TELEPORT": 8, "FIELD_MOVE_SOFTBOILED": 9,
    "BIT_BOULDERBADGE": 0, "BIT_CASCADEBADGE": 1, "BIT_THUNDERBADGE": 2, "BIT_RAINBOWBADGE": 3,
    "BIT_SOULBADGE": 4,
    "BIT_STRENGTH_ACTIVE": 0,         # wStatusFlags1: boulders can be pushed (set by using Strength)
    "SURF_STATE_SURFING": 2,          # wWalkBikeSurfState: 0 walking, 1 biking, 2 surfing
    "TILESET_OVERWORLD": 0, "TILESET_GYM": 7,
    "CUT_TREE_TILE_OVERWORLD": 0x3D,  # the tree UsedCut accepts in the OVERWORLD tileset
    "CUT_TREE_TILE_GYM": 0x50,        # ... and in the GYM tileset (Celadon gym)
    "WATER_TILE": 0x14,               # open water in the tilesets where Surf is allowed
    "WATER_SHORE_TILE_1": 0x32,       # shore tiles Surf also accepts (not in SHIP_PORT)
    "WATER_SHORE_TILE_2": 0x48,
    "TILESET_SHIP_PORT": 14,
    # bit t set = tileset t has water: OVERWORLD, FOREST, DOJO, GYM, SHIP, SHIP_PORT, CAVERN, FACILITY, PLATEAU
    "WATER_TILESETS_MASK": sum(1 << t for t in (0, 3, 5, 7, 13, 14, 17, 22, 23)),
    # Red's start menu writes its item count (not the last index) to wMaxMenuItem: 7 with the Pokedex
    # (POKEDEX POKEMON ITEM RED SAVE OPTION EXIT), 6 without (DrawStartMenu); other menus write the last index.
    "START_MENU_ITEMS_WITH_POKEDEX": 7,
    # The tile in front of the player (Red's GetTileAndCoordsInFrontOfPlayer): the bottom-left tile of the
    # faced 2x2 cell, as (column, row) in wTileMap; the player's own cell is columns 8-9, rows 8-9.
    "FRONT_TILE_DOWN_COL": 8, "FRONT_TILE_DOWN_ROW": 11, "FRONT_TILE_UP_COL": 8, "FRONT_TILE_UP_ROW": 7,
    "FRONT_TILE_LEFT_COL": 6, "FRONT_TILE_LEFT_ROW": 9, "FRONT_TILE_RIGHT_COL": 10, "FRONT_TILE_RIGHT_ROW": 9,
}


# Battle facts from Red's disassembly (pret/pokered constants/trainer_constants.asm: OPP_ID_OFFSET 200 + the
# trainer class; engine/battle/core.asm HandlePlayerBlackOut). wCurOpponent holds a wild species id (< 200) or
# an OPP_* id; wIsInBattle is 1 in a wild battle, 2 in a trainer battle.
BATTLE_FACTS = {
    "OPP_ID_OFFSET": 200,
    "OPP_RIVAL1": 200 + 0x19,
    "OPP_BROCK": 200 + 0x22,
    "OPP_RIVAL3": 200 + 0x2B,  # the champion (trainer_const RIVAL3)
    "BATTLE_WILD": 1,
    "BATTLE_TRAINER": 2,
    # Text and menus (pret/pokered engine/menus/display_text_id_init.asm, home/text_script.asm): DisplayTextIDInit
    # sets bit 0 of wFontLoaded when it opens a text box or the start menu, CloseTextDisplay clears it. While text
    # waits for A or B, HandleDownArrowBlinkTiming blinks the arrow at hlcoord 18, 16 of wTileMap.
    "BIT_FONT_LOADED": 0,
    "TEXT_ARROW_COL": 18,
    "TEXT_ARROW_ROW": 16,
}

# The battery save, from Red's disassembly (pret/pokered ram/sram.asm, engine/menus/save.asm, main_menu.asm; the
# Makefile's header: MBC3+RAM+BATTERY, RAM size 3 = four 8 KiB banks, so a .sav is 32 KiB). Bank 1 holds the game:
# sPlayerName, sMainData, sSpriteData, sPartyData, sCurBoxData, sTileAnimations, then sMainDataCheckSum, the
# complement of the byte sum (mod 256) of everything from sPlayerName up to it (SAVCheckSum). The main menu offers
# CONTINUE only when sPlayerName holds the "@" terminator (CheckForPlayerNameInSRAM) and the sum matches (LoadSAV0);
# the menus watch A, B and START; the free-play bits of wStatusFlags5 are BIT_DISABLE_JOYPAD (5) and
# BIT_SCRIPTED_MOVEMENT_STATE (7, simulated joypad input).
SAVE_FACTS = {
    "SRAM_BASE": 0xA000,
    "SRAM_BANK_SIZE": 0x2000,
    "SAV_SIZE": 0x8000,
    "SAVE_BANK": 1,
    "S_PLAYER_NAME": 0xA598,
    "S_MAIN_DATA": 0xA5A3,
    "S_SPRITE_DATA": 0xAD2C,
    "S_PARTY_DATA": 0xAF2C,
    "S_CUR_BOX_DATA": 0xB0C0,
    "S_TILE_ANIMATIONS": 0xB522,
    "S_MAIN_DATA_CHECKSUM": 0xB523,
    "NAME_LENGTH": 11,
    "CHAR_TERMINATOR": 0x50,
    "BIT_DISABLE_JOYPAD": 5,
    "BIT_SCRIPTED_MOVEMENT_STATE": 7,
    "WY_NO_WINDOW": 0x90,
}


def read_tsv(path: pathlib.Path) -> list[dict[str, str]]:
    lines = path.read_text().splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:] if line.strip()]


def load(data: pathlib.Path) -> dict:
    wram: dict[str, int] = {}
    for row in read_tsv(data / "wram-symbols.tsv"):
        wram.setdefault(row["name"], int(row["address"], 16))
    events: dict[str, tuple[int, int]] = {}
    for row in read_tsv(data / "event-flags.tsv"):
        events.setdefault(row["name"], (int(row["address"], 16), int(row["bit"])))
    maps = []
    map_ids: dict[str, int] = {}
    for row in read_tsv(data / "maps.tsv"):
        map_ids.setdefault(row["name"], int(row["id"]))
        if row["global_x"] == "":
            continue
        maps.append((int(row["id"]), row["name"], int(row["global_x"]), int(row["global_y"]),
                     int(row["tile_w"]), int(row["tile_h"])))
    required = [ln.strip() for ln in (data / "required-events.txt").read_text().splitlines() if ln.strip()]
    missing = [name for name in required if name not in events]
    if missing:
        raise SystemExit(f"required-events.txt names unknown events: {missing}")
    completion = []  # (map id, map name, event names), by map id
    for name, evs in MAP_COMPLETION_EVENTS.items():
        if name not in map_ids:
            raise SystemExit(f"MAP_COMPLETION_EVENTS names unknown map {name}")
        unknown = [e for e in evs if e not in events]
        if unknown:
            raise SystemExit(f"MAP_COMPLETION_EVENTS[{name!r}] names unknown events: {unknown}")
        completion.append((map_ids[name], name, evs))
    completion.sort()
    header = (data / "kanto-global-map.txt").read_text().split("\n", 1)[0]
    # "Global Kanto tile map: width 436 tiles, height 444 tiles."
    words = header.replace(",", "").split()
    width = int(words[words.index("width") + 1])
    height = int(words[words.index("height") + 1])
    return {"wram": wram, "events": events, "maps": maps, "required": required,
            "kanto": (width, height), "completion": completion}


@dataclass(frozen=True)
class Fact:
    """One named number, written the same way to both outputs."""

    name: str
    value: int
    kind: str = "int"  # "addr": a WRAM address (uint16_t in C++), "hex": an int in hex, "int": an int in decimal
    comment: str = ""


HEX_PREFIXES = ("MOVE_", "CUT_", "WATER_")  # field-move facts that the disassembly writes in hex


def map_id(name: str, d: dict) -> int:
    ids = [m[0] for m in d["maps"] if m[1] == name]
    if not ids:
        raise SystemExit(f"maps.tsv has no map {name} with a global offset")
    return ids[0]


def facts(d: dict) -> list[tuple[str, list[Fact]]]:
    """Every scalar fact, in output order, as (section heading, facts)."""
    obs_w = SCREEN_W // 2
    return [
        ("WRAM addresses the project reads, by their symbol in Red's disassembly.",
         [Fact(py, d["wram"][sym], "addr", sym) for py, sym in NAMED.items()]),
        ("The Game Boy's memory map: base address and size of each area the project reads.",
         [Fact(name, value, "hex", comment) for name, value, comment in MEMORY_MAP]),
        ("The screen as PyBoy gives it (rows, columns, RGBA bytes per pixel), and the observation: the top-left "
         "pixel of every 2x2 block, 2 bits per pixel packed 4 per byte (first pixel in the high bits).",
         [Fact("SCREEN_H", SCREEN_H), Fact("SCREEN_W", SCREEN_W), Fact("SCREEN_CHANNELS", SCREEN_CHANNELS),
          Fact("OBS_H", SCREEN_H // 2), Fact("OBS_W", obs_w),
          Fact("OBS_PACKED_W", obs_w // 4, comment="bytes per packed observation row")]),
        ("Sizes from Red's disassembly that the symbol table does not carry, and the Kanto map's size.",
         [Fact("PARTY_MON_STRIDE", PARTY_MON_STRIDE, "hex", "bytes between wPartyMon1 and wPartyMon2"),
          Fact("PARTY_MAX", PARTY_MAX),
          Fact("EVENT_FLAGS_BYTES", EVENT_FLAGS_BYTES),
          Fact("POKEDEX_BYTES", POKEDEX_BYTES),
          Fact("BAG_MAX_ITEMS", BAG_MAX_ITEMS),
          Fact("KANTO_WIDTH", d["kanto"][0]),
          Fact("KANTO_HEIGHT", d["kanto"][1]),
          Fact("NUM_REQUIRED_EVENTS", len(d["required"]), comment="len(REQUIRED_EVENTS)"),
          Fact("NUM_KEY_ITEMS", len(KEY_ITEMS), comment="len(KEY_ITEMS)"),
          Fact("NUM_MAP_COMPLETION_EVENTS", sum(len(c[2]) for c in d["completion"]),
               comment="events over all maps of MAP_COMPLETION_EVENTS")]),
        ("Field moves (HMs): facts from Red's disassembly, not from ../shared/data.",
         [Fact(k, v, "hex" if k.startswith(HEX_PREFIXES) else "int") for k, v in HM_FACTS.items()]),
        ("Battles: opponent ids and wIsInBattle values, from Red's disassembly; the map where a loss to OPP_RIVAL1 "
         "is forgiven (HandlePlayerBlackOut); the Hall of Fame, where the game ends.",
         [Fact(k, v) for k, v in BATTLE_FACTS.items()]
         + [Fact("MAP_OAKS_LAB", map_id("OAKS_LAB", d), comment="wCurMap in Oak's lab (maps.tsv)"),
            Fact("MAP_HALL_OF_FAME", map_id("HALL_OF_FAME", d), comment="wCurMap in the Hall of Fame (maps.tsv)")]),
        ("The battery save (.sav): cartridge RAM as Red lays it out, and the free-play flags.",
         [Fact(k, v, "addr" if k.startswith(("S_", "SRAM_BASE")) else "hex") for k, v in SAVE_FACTS.items()]),
        ("Event flags read by name: (address, bit).",
         [f for name in NAMED_EVENTS
          for f in (Fact(f"{name}_ADDR", d["events"][name][0], "addr"), Fact(f"{name}_BIT", d["events"][name][1]))]),
    ]


def literal(f: Fact) -> str:
    return f"0x{f.value:04X}" if f.kind == "addr" else f"0x{f.value:02X}" if f.kind == "hex" else str(f.value)


def py_fact(f: Fact) -> str:
    return f"{f.name} = {literal(f)}" + (f"  # {f.comment}" if f.comment else "")


def h_fact(f: Fact) -> str:
    ctype = "uint16_t" if f.kind == "addr" else "int"
    return f"constexpr {ctype} {f.name} = {literal(f)};" + (f"  // {f.comment}" if f.comment else "")


def render_facts(d: dict, line, comment: str) -> list[str]:
    out = []
    for heading, group in facts(d):
        out += [""] + [f"{comment} {text}" for text in textwrap.wrap(heading, 110)] + [line(f) for f in group]
    return out


BANNER = "GENERATED by scripts/gen_constants.py from ../shared/data -- do not edit by hand."


def render_py(d: dict) -> str:
    out = ['"""Pokemon Red facts: WRAM addresses, the Game Boy memory map, observation sizes, event flags, maps,',
           f"required events.\n\n{BANNER}", '"""', "", "# fmt: off"]
    out += render_facts(d, py_fact, "#")
    out += ["", "# Key items and HMs: item ids the key_items reward term counts.",
            "KEY_ITEMS = (" + ", ".join(f"0x{i:02X}" for i in KEY_ITEMS) + ")"]
    out += ["",
            "# Every WRAM symbol: name -> address (first address where a name repeats).",
            "WRAM = {"]
    for name, addr in sorted(d["wram"].items(), key=lambda kv: (kv[1], kv[0])):
        out.append(f"    {name!r}: 0x{addr:04X},")
    out += ["}", "", "# Event flags: name -> (address, bit).", "EVENT_FLAGS_BY_NAME = {"]
    for name, (addr, bit) in sorted(d["events"].items(), key=lambda kv: (kv[1], kv[0])):
        out.append(f"    {name!r}: (0x{addr:04X}, {bit}),")
    out += ["}", "", "# Events that gate progress, in game order.", "REQUIRED_EVENTS = ("]
    for name in d["required"]:
        out.append(f"    {name!r},")
    out += [")", "", "# Maps with a place on the global Kanto map: (id, name, global_x, global_y, tile_w, tile_h).",
            "MAPS = ("]
    for m in d["maps"]:
        out.append(f"    ({m[0]}, {m[1]!r}, {m[2]}, {m[3]}, {m[4]}, {m[5]}),")
    out += [")", "MAP_IDS = {m[1]: m[0] for m in MAPS}", "",
            "# Map completion (the explore_boost mechanic): map id -> the events set on that map, by name. A map",
            "# is unfinished while any of them is unset; maps not listed count as finished.",
            "MAP_COMPLETION_EVENTS = {"]
    for map_id, name, evs in d["completion"]:
        out.append(f"    {map_id}: {evs!r},  # {name}")
    out += ["}", ""]
    return "\n".join(out)


def render_h(d: dict) -> str:
    out = ["// Pokemon Red facts for the native core.", f"// {BANNER}",
           "#pragma once", "#include <array>", "#include <cstdint>", "", "namespace pokerl {", "namespace red {"]
    out += render_facts(d, h_fact, "//")
    mask = [0, 0, 0, 0]
    for i in KEY_ITEMS:
        mask[i >> 6] |= 1 << (i & 63)
    out += ["", "// Key items and HMs as a 256-bit set of item ids (bit i & 63 of word i >> 6).",
            "constexpr uint64_t KEY_ITEM_MASK[4] = {" + ", ".join(f"0x{w:016X}ull" for w in mask) + "};"]
    out += ["",
            "// Maps with a place on the global Kanto map: {id, global_x, global_y}, in MAPS order.",
            "struct MapOffset {",
            "    int id, x, y;",
            "};",
            "constexpr MapOffset MAP_OFFSETS[] = {"]
    out += [f"    {{{m[0]}, {m[2]}, {m[3]}}},  // {m[1]}" for m in d["maps"]]
    out += ["};",
            "",
            "// Global Kanto offset (x or y) of each map id; -1 where the id has no place on the map.",
            "constexpr std::array<int16_t, 256> map_global_table(bool y) {",
            "    std::array<int16_t, 256> table{};",
            "    for (auto& v : table) v = -1;",
            "    for (const MapOffset& m : MAP_OFFSETS) table[m.id] = int16_t(y ? m.y : m.x);",
            "    return table;",
            "}",
            "constexpr std::array<int16_t, 256> MAP_GLOBAL_X = map_global_table(false);",
            "constexpr std::array<int16_t, 256> MAP_GLOBAL_Y = map_global_table(true);"]
    out += ["",
            "// Required events as (address, bit), in REQUIRED_EVENTS order.",
            "constexpr uint16_t REQUIRED_EVENT_ADDR[NUM_REQUIRED_EVENTS] = {"]
    for name in d["required"]:
        out.append(f"    0x{d['events'][name][0]:04X},  // {name}")
    out += ["};", "constexpr uint8_t REQUIRED_EVENT_BIT[NUM_REQUIRED_EVENTS] = {"]
    out.append("    " + ", ".join(str(d["events"][n][1]) for n in d["required"]) + ",")
    out += ["};", "",
            "// Key items and HMs in KEY_ITEMS order (the progress observation's bag bits).",
            "constexpr uint8_t KEY_ITEM_IDS[NUM_KEY_ITEMS] = {" + ", ".join(f"0x{i:02X}" for i in KEY_ITEMS) + "};"]
    starts, k = [0] * 257, 0
    by_id = {c[0]: c for c in d["completion"]}
    for m in range(256):
        starts[m] = k
        k += len(by_id[m][2]) if m in by_id else 0
    starts[256] = k
    out += ["",
            "// Map completion (explore_boost): map m's events are MAP_COMPLETION_ADDR/BIT[START[m] .. START[m + 1]);",
            "// a map is unfinished while any is unset; maps with none count as finished.",
            "constexpr uint16_t MAP_COMPLETION_START[257] = {"]
    for r in range(0, 257, 16):
        out.append("    " + ", ".join(str(v) for v in starts[r:r + 16]) + ",")
    out += ["};", "constexpr uint16_t MAP_COMPLETION_ADDR[NUM_MAP_COMPLETION_EVENTS] = {"]
    for map_id, name, evs in d["completion"]:
        out.append("    " + ", ".join(f"0x{d['events'][e][0]:04X}" for e in evs) + f",  // {name}")
    out += ["};", "constexpr uint8_t MAP_COMPLETION_BIT[NUM_MAP_COMPLETION_EVENTS] = {"]
    for map_id, name, evs in d["completion"]:
        out.append("    " + ", ".join(str(d["events"][e][1]) for e in evs) + f",  // {name}")
    out += ["};", "", "}  // namespace red", "}  // namespace pokerl", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=pathlib.Path, default=DEFAULT_DATA, help="folder of the reference files")
    ap.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"error: reference data folder {args.data} not found; pass --data DIR", file=sys.stderr)
        return 2
    d = load(args.data)
    outputs = {PY_OUT: render_py(d), H_OUT: render_h(d)}
    stale = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
    if args.check:
        for p in stale:
            print(f"stale: {p.relative_to(ROOT)} (run python scripts/gen_constants.py)")
        return 1 if stale else 0
    for p, text in outputs.items():
        p.write_text(text)
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
