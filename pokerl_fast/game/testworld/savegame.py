"""The battery save of a world with ``battery_save`` (the benchmark world): Red's SAVE, its main menu and CONTINUE.

Written from how Red behaves (pret/pokered engine/menus/save.asm, main_menu.asm, ram/sram.asm); our own code:

* The cartridge is Red's kind (MBC3 + RAM + battery, 32 KiB of cartridge RAM in four banks), so an emulator keeps
  it as a ``.sav`` file and PyBoy loads one at boot (``ram_file``).
* **SAVE** in the start menu: "Would you like to SAVE the game?" YES/NO; YES copies Red's save ranges to bank 1 as
  Red's SaveSAVtoSRAM does (wPlayerName -> sPlayerName, wMainData -> sMainData, the sprite data, the party, the
  current box, hTileAnimations) and writes sMainDataCheckSum, the complement of the byte sum of sPlayerName up to
  it; then "Now saving...", a pause, and "RED saved the game!".
* **Boot with a save** (a player name ending in "@" in sPlayerName and a matching sum, as CheckForPlayerNameInSRAM
  and LoadSAV0 ask): the main menu, CONTINUE / NEW GAME / OPTION over a blank screen, the cursor on CONTINUE
  (wCurrentMenuItem 0, wMaxMenuItem 2, wTopMenuItemX 1, wTopMenuItemY 2); A or START picks. CONTINUE shows the
  player's info box, which after 30 frames takes a held A (into the game) or B (back to the menu, cursor on
  CONTINUE); NEW GAME starts in the world's start room as a boot without a save does; OPTION does nothing here.
  While the menu is up wUpdateSpritesEnabled is 0xFF and hWY 0 (the window covers the screen), as in Red before
  the first map loads.
* **CONTINUE** copies the ranges back, finds the room of (wCurMap, wXCoord, wYCoord) and the last heal point of
  wLastBlackoutMap from tables, and enters the room: the player stands where the game was saved, in free play.

A world without ``battery_save`` (the test world) emits none of this; its ROM is unchanged.
"""

from __future__ import annotations

from pokerl_fast.game import constants as C

__all__ = ["SAVE_RAM", "SAVE_STATES", "SAVE_RANGES", "MAIN_MENU_ITEMS", "INFO_WAIT", "PLAYER_NAME_RED", "sav_offset",
           "sav_checksum", "emit"]

SAVE_RAM = {"wMainInfo": 0xDFF7}  # 0: the main menu; n > 0: the CONTINUE info box, taking input once n reaches 1
SAVE_STATES = ("MAIN_MENU",)
SAVE_RANGES = (  # (WRAM start, SRAM start in bank 1, bytes): Red's SaveSAVtoSRAM0/2, in its order
    (C.PLAYER_NAME, C.S_PLAYER_NAME, C.NAME_LENGTH),
    (C.MAIN_DATA_START, C.S_MAIN_DATA, C.MAIN_DATA_END - C.MAIN_DATA_START),
    (C.SPRITE_DATA_START, C.S_SPRITE_DATA, C.SPRITE_DATA_END - C.SPRITE_DATA_START),
    (C.PARTY_DATA_START, C.S_PARTY_DATA, C.MAIN_DATA_START - C.PARTY_DATA_START),
    (C.MAIN_DATA_END, C.S_CUR_BOX_DATA, C.BOX_DATA_END - C.MAIN_DATA_END),  # wBoxDataStart = wMainDataEnd
)
MAIN_MENU_ITEMS = ("CONTINUE", "NEW GAME", "OPTION")
INFO_WAIT = 30  # frames the info box is up before it takes a button (Red's DisplayContinueGameInfo: DelayFrames 30)
PLAYER_NAME_RED = (0x91, 0x84, 0x83, C.CHAR_TERMINATOR)  # "RED@" in Red's character set
_SRAM_ENABLE, _SRAM_BANK = 0x0000, 0x4000  # MBC3: 0x0A to 0x0000-0x1FFF enables cartridge RAM; 0x4000 picks the bank


def sav_offset(addr: int, bank: int = C.SAVE_BANK) -> int:
    """Where cartridge RAM address ``addr`` of ``bank`` sits in a .sav file."""
    return bank * C.SRAM_BANK_SIZE + addr - C.SRAM_BASE


def sav_checksum(sav: bytes) -> int:
    """Red's SAVCheckSum over a .sav: the complement of the byte sum (mod 256) from sPlayerName up to the sum."""
    return ~sum(sav[sav_offset(C.S_PLAYER_NAME):sav_offset(C.S_MAIN_DATA_CHECKSUM)]) & 0xFF


def _menu_screen(tiles: dict, info: bool) -> list[int]:
    """The 20x18 wTileMap of the main menu (with the CONTINUE info box when ``info``): boxes and letter-like glyphs."""
    w, h = C.TILE_MAP_WIDTH, C.TILE_MAP_HEIGHT
    grid = [[tiles["BLANK"]] * w for _ in range(h)]

    def box(x0: int, y0: int, bw: int, bh: int) -> None:
        for y in range(y0, y0 + bh):
            for x in range(x0, x0 + bw):
                top, bottom, left, right = y == y0, y == y0 + bh - 1, x == x0, x == x0 + bw - 1
                name = ("TL" if left else "TR" if right else "H") if top else \
                       ("BL" if left else "BR" if right else "H") if bottom else ("V" if left or right else "BLANK")
                grid[y][x] = tiles[name]

    def word(x: int, y: int, text: str) -> None:
        for k, ch in enumerate(text):
            if ch != " ":
                grid[y][x + k] = tiles[f"GLYPH{ord(ch) % 8}"]

    box(0, 0, 13, 2 * len(MAIN_MENU_ITEMS) + 2)
    for i, item in enumerate(MAIN_MENU_ITEMS):
        word(2, 2 + 2 * i, item)
    if info:  # Red's DisplayContinueGameInfo: a 14x8 box at (4, 7)
        box(4, 7, 14, 10)
        for i, label in enumerate(("PLAYER", "BADGES", "#DEX", "TIME")):
            word(5, 9 + 2 * i, label)
    return [t for row in grid for t in row]


def emit(wb) -> None:
    """Emit the save routines, the main menu and CONTINUE into the world builder ``wb`` (world._World)."""
    a, w = wb.a, wb.w
    T = wb.tiles
    menu = C.TILE_MAP + 2 * C.TILE_MAP_WIDTH + 1  # the cursor's cell for item 0; items are two rows apart

    def sram(on: bool) -> None:
        if on:
            a.ld("a", 0x0A)
            a.ld([_SRAM_ENABLE], "a")
            a.ld("a", C.SAVE_BANK)
            a.ld([_SRAM_BANK], "a")
        else:
            a.xor("a")
            a.ld([_SRAM_ENABLE], "a")

    def copy_ranges(to_sram: bool) -> None:
        for wram, sram_addr, size in SAVE_RANGES:
            a.ld("hl", sram_addr if to_sram else wram)
            a.ld("de", wram if to_sram else sram_addr)
            a.ld("bc", size)
            a.call("Copy")

    def show(screen: str) -> None:  # a whole precomputed screen into wTileMap (the window mirrors it)
        a.ld("hl", C.TILE_MAP)
        a.ld("de", screen)
        a.ld("bc", C.TILE_MAP_WIDTH * C.TILE_MAP_HEIGHT)
        a.call("Copy")

    # ---- SAVE, from the start menu
    a.label("SaveMenu")
    wb.store("wWindowDirty", 1)
    wb.say("SAVE_ASK", "SaveAsked")
    a.label("SaveAsked")
    a.ld("de", "SaveAnswer")
    a.jp("AskYesNo")
    a.label("SaveAnswer")
    a.jp("c", "CloseText")  # NO
    a.call("SaveGame")
    wb.say("SAVED", "CloseText")

    a.label("SaveGame")  # Red's SaveSAVtoSRAM: the save ranges into bank 1, then the sum
    sram(True)
    copy_ranges(to_sram=True)
    a.ldh("a", [C.H_TILE_ANIMATIONS])
    a.ld([C.S_TILE_ANIMATIONS], "a")
    a.call("SaveSum")
    a.ld([C.S_MAIN_DATA_CHECKSUM], "a")
    sram(False)
    a.ret()

    a.label("SaveSum")  # a = Red's SAVCheckSum over bank 1 (cartridge RAM on, bank 1 selected)
    a.ld("hl", C.S_PLAYER_NAME)
    a.ld("bc", C.S_MAIN_DATA_CHECKSUM - C.S_PLAYER_NAME)
    a.ld("d", 0)
    a.label(".sum")
    a.ld("a", "[hl+]")
    a.add("a", "d")
    a.ld("d", "a")
    wb.loop_bc(".sum")
    a.ld("a", "d")
    a.cpl()
    a.ret()

    a.label("SaveValid")  # Z when bank 1 holds a save Red would load: a named player and a matching sum
    sram(True)
    a.ld("hl", C.S_PLAYER_NAME)
    a.ld("b", C.NAME_LENGTH)
    a.label(".name")
    a.ld("a", "[hl+]")
    a.cp(C.CHAR_TERMINATOR)
    a.jr("z", ".named")
    a.dec("b")
    a.jr("nz", ".name")
    a.inc("b")  # NZ: no name, no save
    a.jr(".off")
    a.label(".named")
    a.call("SaveSum")
    a.ld("hl", C.S_MAIN_DATA_CHECKSUM)
    a.cp("[hl]")
    a.label(".off")
    a.push("af")
    sram(False)
    a.pop("af")
    a.ret()

    # ---- the main menu at boot
    a.label("OpenMainMenu")
    wb.store("wState", wb.states["MAIN_MENU"])
    wb.zero(C.JOY_IGNORE, C.CURRENT_MENU_ITEM, "wMainInfo", "wWinTop")
    wb.store(C.UPDATE_SPRITES_ENABLED, 0xFF)
    wb.store(C.MAX_MENU_ITEM, len(MAIN_MENU_ITEMS) - 1)
    wb.store("wMenuLast", len(MAIN_MENU_ITEMS) - 1)
    wb.store(C.TOP_MENU_ITEM_X, 1)
    wb.store(C.TOP_MENU_ITEM_Y, 2)
    show("MainMenuScreen")
    a.jr("MainCursor")

    a.label("StMainMenu")
    a.ld("a", ["wMainInfo"])
    a.and_("a")
    a.jr("nz", ".info")
    a.call("MenuUpDown")
    a.jr("c", "MainCursor")
    a.ld("a", ["wJoyPressed"])
    a.and_(0x09)  # A or START
    a.ret("z")
    a.ld("a", [C.CURRENT_MENU_ITEM])
    a.and_("a")
    a.jr("z", ".continue")
    a.dec("a")
    a.ret("nz")  # OPTION: nothing here
    wb.store(C.UPDATE_SPRITES_ENABLED, 1)  # NEW GAME: the start room, as a boot without a save
    a.jp("CloseText")
    a.label(".continue")
    show("ContinueScreen")
    wb.store("wMainInfo", INFO_WAIT + 1)
    a.ret()
    a.label(".info")  # the info box: after INFO_WAIT frames, a held A goes on, a held B goes back
    a.cp(1)
    a.jr("z", ".ready")
    a.dec("a")
    a.ld(["wMainInfo"], "a")
    a.ret()
    a.label(".ready")
    a.ld("a", ["wJoyHeld"])
    a.bit(0, "a")
    a.jr("nz", "LoadGame")
    a.bit(1, "a")
    a.ret("z")
    a.jp("OpenMainMenu")

    a.label("MainCursor")  # the cursor beside the current item, blanks beside the others
    for i in range(len(MAIN_MENU_ITEMS)):
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.cp(i)
        a.ld("a", T["CURSOR"])
        a.jr("z", f".at{i}")
        a.ld("a", T["BLANK"])
        a.label(f".at{i}")
        a.ld([menu + 2 * i * C.TILE_MAP_WIDTH], "a")
    a.ret()

    # ---- CONTINUE: the save back into WRAM, then into its room
    a.label("LoadGame")
    sram(True)
    copy_ranges(to_sram=False)
    a.ld("a", [C.S_TILE_ANIMATIONS])
    a.ldh([C.H_TILE_ANIMATIONS], "a")
    sram(False)
    a.ld("hl", "SaveRoomBoxes")  # map id, x and y offset, width, height per room
    a.ld("c", 0)
    a.label(".room")
    a.ld("a", "c")
    a.cp(len(wb.rooms))
    a.jr("z", ".nowhere")
    a.push("hl")
    a.ld("a", [C.CUR_MAP])
    a.cp("[hl]")
    a.inc("hl")
    a.jr("nz", ".next")
    a.ld("a", [C.X_COORD])
    a.sub("[hl]")
    a.inc("hl")
    a.ld("d", "a")
    a.ld("a", [C.Y_COORD])
    a.sub("[hl]")
    a.inc("hl")
    a.ld("e", "a")
    a.ld("a", "d")
    a.cp("[hl]")
    a.inc("hl")
    a.jr("nc", ".next")
    a.ld("a", "e")
    a.cp("[hl]")
    a.jr("nc", ".next")
    a.pop("hl")
    a.ld("a", "c")
    a.ld(["wWarpRoom"], "a")
    a.ld("a", "d")
    a.ld(["wWarpX"], "a")
    a.ld("a", "e")
    a.ld(["wWarpY"], "a")
    a.jr(".blackout")
    a.label(".next")
    a.pop("hl")
    a.ld("de", 5)
    a.add("hl", "de")
    a.inc("c")
    a.jr(".room")
    a.label(".nowhere")  # a save of no place in this world: the start
    wb.set_warp(w.start_room, w.start_xy, pending=False)
    a.label(".blackout")  # the last heal point: the spawn of the heal whose map wLastBlackoutMap names
    a.ld("hl", "SaveHealSpawns")  # map id, room, x, y; ends with the world's blackout spot
    a.label(".heal")
    a.ld("a", "[hl+]")
    a.cp(0xFF)
    a.jr("z", ".spawn")
    a.ld("b", "a")
    a.ld("a", [C.LAST_BLACKOUT_MAP])
    a.cp("b")
    a.jr("z", ".spawn")
    a.inc("hl")
    a.inc("hl")
    a.inc("hl")
    a.jr(".heal")
    a.label(".spawn")
    for name in ("wBlackoutRoom", "wBlackoutX", "wBlackoutY"):
        a.ld("a", "[hl+]")
        a.ld([name], "a")
    wb.zero("wMainInfo")
    wb.store("wWarpPending", 1)
    wb.store(C.UPDATE_SPRITES_ENABLED, 1)
    a.jp("CloseText")

    # ---- data
    a.label("MainMenuScreen")
    a.db(*_menu_screen(T, info=False))
    a.label("ContinueScreen")
    a.db(*_menu_screen(T, info=True))
    a.label("SaveRoomBoxes")
    for r in wb.rooms:
        a.db(r.map_id, r.offset[0], r.offset[1], r.width, r.height)
    a.label("SaveHealSpawns")
    for heal in w.heals:
        if heal.spawn is not None:
            room, (x, y) = heal.spawn
            a.db(w.room(room).map_id, wb.room_index[room], x, y)
    a.db(0xFF, wb.room_index[w.blackout_room], *w.blackout_xy)

