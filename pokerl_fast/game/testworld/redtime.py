"""Red's time between events, for a world that asks for it (``World.red_time``): text, menus, real battles.

Red spends most of its early game in text boxes, YES/NO prompts, the naming screen and battles run through
menus, not walking. This module emits those parts of the program (written from how Red's engine behaves, see
pret/pokered home/text.asm, engine/menus/naming_screen.asm, engine/battle/core.asm; our own code):

* **Text**: a speech is a list of boxes. Letters print one by one into a text box in ``wTileMap`` rows 12-17
  (3 frames a letter, Red's MEDIUM speed; one a frame while A or B is held, as Red's PrintLetterDelay), the
  box then waits at the prompt arrow for A or B; battle text boxes go on by themselves after a pause; a
  cut scene is a pause with no text. The d-pad does nothing while text is up.
* **YES/NO** (A takes the cursor's answer, B means NO), the **nickname prompt** after the starter and the
  **naming screen**: a 9x5 letter grid and a case row, the d-pad moves the cursor (wrapping), A types (10 letters
  at most, then the cursor jumps to END), B deletes, START jumps to END, A on END confirms; an empty name keeps
  the species' name.
* **Battles**: FIGHT / PKMN / ITEM / RUN with its cursor, the move list, both HP values in Red's WRAM
  (``wBattleMonHP``, ``wEnemyMonHP``), stats from Red's formula (base stats, DVs of 8, level), turn order by
  speed, Red's damage rule (level, attack, defense, power, a random 217-255/255), stat moves lowering the
  target's attack stage, battle text between turns, faint, experience (base exp x level / 7, x1.5 from a
  trainer; Red's medium-slow curve) and level-up, RUN refused in trainer battles and Red's escape rule in wild
  ones (TryRunningFromBattle), the party's HP written back as each hit lands.

The formulas have plain Python twins below (``stat``, ``damage``, ``escape_threshold``, ``exp_for_level``),
which the tests hold the ROM to.
"""

from __future__ import annotations

import dataclasses

from pokerl_fast.game import constants as C
from pokerl_fast.game.testworld import layout as L

__all__ = [
    "RED_TIME_RAM", "RED_TIME_STATES", "MONS", "Mon", "MOVE_POWER", "DV", "TEXT_DELAY", "AUTO_WAIT",
    "PAUSE_UNIT", "BOX_LETTERS", "GLYPHS", "NAME_MAX", "stat", "hp_stat", "damage", "exp_for_level",
    "exp_gain", "escape_threshold", "stage_attack", "STAGE_RATIOS", "speech_frames", "emit", "DEFAULT_SPEECH",
    "BATTLE_TEXT", "battle_stats",
]

# Private WRAM after the room's special numbers (0xDF80-0xDFD9), up to the top of Red's stack area.
RED_TIME_RAM = {
    "wTextLo": 0xDFDA, "wTextHi": 0xDFDB,  # the speech byte being shown
    "wTextLeft": 0xDFDC,  # letters still to print in this box
    "wTextCol": 0xDFDD,  # letters printed in this box
    "wTextDelay": 0xDFDE,  # frames to the next letter; at the prompt, the arrow's blink timer
    "wTextMode": 0xDFDF,  # 0 printing, 1 waiting at the prompt, 2 a timed pause (wTimer)
    "wThenLo": 0xDFE0, "wThenHi": 0xDFE1,  # where the program goes when the speech / prompt is over
    "wWinTop": 0xDFE2,  # first wTileMap row the window shows (12: a text box; 0: the whole screen)
    "wMirrorRow": 0xDFE3,  # next wTileMap row copied to the window
    "wNameLen": 0xDFE4, "wNameX": 0xDFE5, "wNameY": 0xDFE6, "wNameCase": 0xDFE7,
    "wPlayerStage": 0xDFE8, "wEnemyStage": 0xDFE9,  # attack stages, 6 = normal, 0 = -6
    "wEnemyMove": 0xDFEA,  # the enemy's damaging move's power
    "wMul": 0xDFEB,  # 3 bytes, big-endian: the multiply/divide accumulator (0xDFEB-0xDFED)
    "wTurnPower": 0xDFEE,  # the power of the player's chosen move (0: a stat move)
    "wTurnStep": 0xDFEF,  # 0: the first attacker moved, 1: both have
    "wExpGain": 0xDFF0,  # 2 bytes, big-endian
    "wGlyphSeed": 0xDFF2,
    "wEnemyEntry": 0xDFF3,  # index into MonTable of the enemy
    "wEnemyExp": 0xDFF4,  # the enemy's base experience
    "wCalcLevel": 0xDFF5,
    "wMoveCount": 0xDFF6,
}
RED_TIME_STATES = ("TEXT", "YESNO", "NAMING", "B_MENU", "B_MOVES", "B_SUB")

DV = 8  # every mon's DVs (Red rolls 0-15; one fixed value keeps the stats a table can check)
TEXT_DELAY = 3  # frames per letter: Red's default MEDIUM text speed
AUTO_WAIT = 40  # frames a battle text box stays up once printed before it goes on by itself
PAUSE_UNIT = 16  # a cut scene pause byte counts in units of 16 frames (one walked step)
BOX_LETTERS = 35  # two lines: 18 letters, then 17 (the prompt arrow takes the last cell)
NAME_MAX = 10
GLYPHS = 8  # letter-like tiles the text draws (the test world has no font: what matters is that text changes)
STAGE_RATIOS = (25, 28, 33, 40, 50, 66, 100)  # Red's StatModifierRatios for stages -6..0, in percent


@dataclasses.dataclass(frozen=True)
class Mon:
    """Red's base stats of a species (HP, attack, defense, speed), its base experience, its damaging move's
    power and whether it has a stat move as well (Growl, Tail Whip, Leer...: here all lower the attack stage)."""

    hp: int
    attack: int
    defense: int
    speed: int
    base_exp: int
    power: int
    stat_move: bool = True


MONS = {  # Red's base stats and level-5-ish moves
    "CHARMANDER": Mon(39, 52, 43, 65, 65, 40),  # SCRATCH, GROWL
    "SQUIRTLE": Mon(44, 48, 65, 43, 66, 35),  # TACKLE, TAIL WHIP
    "PIDGEY": Mon(40, 45, 40, 56, 55, 40),  # GUST, SAND-ATTACK
    "RATTATA": Mon(30, 56, 35, 72, 57, 35),  # TACKLE, TAIL WHIP
    "SPEAROW": Mon(40, 60, 30, 70, 58, 35),  # PECK, GROWL
    "NIDORAN_M": Mon(46, 57, 40, 50, 60, 35),  # TACKLE, LEER
    "NIDORAN_F": Mon(55, 47, 52, 41, 59, 35),  # TACKLE, GROWL
    "CATERPIE": Mon(45, 30, 35, 45, 53, 35),  # TACKLE, STRING SHOT
    "WEEDLE": Mon(40, 35, 30, 50, 52, 15),  # POISON STING, STRING SHOT
    "PIKACHU": Mon(35, 55, 30, 90, 82, 40),  # THUNDERSHOCK, GROWL
    "GEODUDE": Mon(40, 80, 100, 20, 86, 35),  # TACKLE, DEFENSE CURL
    "ONIX": Mon(35, 45, 160, 70, 77, 35),  # TACKLE, SCREECH
}
MOVE_POWER = {0x0A: 40, 0x21: 35, 0x2D: 0, 0x27: 0, 0x10: 40, 0x40: 35}  # SCRATCH, TACKLE, GROWL, TAIL WHIP...


# ------------------------------------------------------------------------------ the Python twins
def stat(base: int, level: int) -> int:
    """Red's CalcStat for attack, defense, speed (no stat experience); the ROM keeps stats in one byte, so the
    (base + DV) * 2 * level / 100 part is capped at 250."""
    return min(250, (base + DV) * 2 * level // 100) + 5


def hp_stat(base: int, level: int) -> int:
    return (stat(base, level) + level + 5) & 0xFF


def stage_attack(attack: int, stage: int) -> int:
    """An attack stat at stage 0..6 (6 normal), at least 1."""
    return max(1, attack * STAGE_RATIOS[stage] // 100)


def damage(level: int, power: int, attack: int, defense: int, rand: int) -> int:
    """Red's damage rule without types, criticals or STAB: ((2L/5+2) * power * A / D) / 50 + 2, then
    x rand/255 with rand in 217..255; at most 255 (HP here fit a byte)."""
    x = (level * 2 // 5 + 2) * power * attack // defense // 50 + 2
    return min(255, x * rand // 255)


def exp_for_level(n: int) -> int:
    """Red's medium-slow growth (the starters'): 6/5 n^3 - 15 n^2 + 100 n - 140, at least 0."""
    return max(0, 6 * n ** 3 // 5 - 15 * n ** 2 + 100 * n - 140)


def exp_gain(base_exp: int, level: int, trainer: bool) -> int:
    x = base_exp * level // 7
    return x + x // 2 if trainer else x


def escape_threshold(player_speed: int, enemy_speed: int, attempts: int) -> int | None:
    """Red's TryRunningFromBattle: None when escape is certain, else the most a random byte may be to escape
    (``attempts`` counts this try)."""
    if player_speed >= enemy_speed or enemy_speed // 4 == 0:
        return None
    q = player_speed * 32 // (enemy_speed // 4)
    if q > 255:
        return None
    q += 30 * (attempts - 1)
    return None if q > 255 else q


def battle_stats(species: str, level: int) -> tuple[int, int, int, int]:
    """(max HP, attack, defense, speed) of a mon of this world."""
    m = MONS[species]
    return hp_stat(m.hp, level), stat(m.attack, level), stat(m.defense, level), stat(m.speed, level)


def speech_frames(speech: tuple[int, ...], *, hold: bool = False) -> int:
    """Frames a speech's printing and pauses take before its prompts are answered (the floor a speech costs)."""
    total = 0
    for b in speech:
        if b & 0xC0 == 0xC0:
            total += (b & 0x3F) * PAUSE_UNIT
        elif b & 0x80:
            total += (b & 0x3F) * (1 if hold else TEXT_DELAY) + AUTO_WAIT
        else:
            total += b * (1 if hold else TEXT_DELAY)
    return total


def _label(key: str) -> str:
    return key.replace(":", "_")


def _box(n: int) -> int:
    if not 1 <= n <= BOX_LETTERS:
        raise ValueError(f"a text box holds 1..{BOX_LETTERS} letters, not {n}")
    return n


def auto(n: int) -> int:
    return 0x80 | _box(n)


def pause(steps: int) -> int:
    if not 1 <= steps <= 15:
        raise ValueError("a pause is 1..15 units of 16 frames")
    return 0xC0 | steps


DEFAULT_SPEECH = (24,)
# Battle text, boxes of Red's lengths ("Wild PIDGEY appeared!", "Go! CHARMANDER!", ...).
BATTLE_TEXT = {
    "WILD_APPEARS": (21, auto(15)),
    "TRAINER_APPEARS": (22, auto(24), auto(15)),
    "PLAYER_USES": (auto(24),),
    "ENEMY_USES": (auto(30),),
    "STAT_FELL": (auto(22),),
    "ENEMY_FAINTED": (23,),
    "GAINED_EXP": (33,),
    "GREW": (30,),
    "TRAINER_DEFEATED": (19, 28),
    "PLAYER_FAINTED": (19,),
    "BLACKED_OUT": (30, 17),
    "GOT_AWAY": (16,),
    "CANT_ESCAPE": (13,),
    "NO_RUNNING": (3, 35),
}


# ------------------------------------------------------------------------------------ the program
def emit(wb) -> None:
    """Emit the Red-time routines into the world builder ``wb`` (world._World)."""
    _Emitter(wb).all()


def _times20(a, scratch: str) -> None:
    """hl = a * 20 (a wTileMap row's offset); ``scratch`` (bc or de) is clobbered."""
    a.ld("l", "a")
    a.ld("h", 0)
    a.add("hl", "hl")
    a.add("hl", "hl")
    a.push("hl")
    a.add("hl", "hl")
    a.add("hl", "hl")
    a.pop(scratch)
    a.add("hl", scratch)


class _Emitter:
    def __init__(self, wb):
        self.wb = wb
        self.a = wb.a
        self.w = wb.w
        self.S = wb.states
        self.T = wb.tiles

    def all(self) -> None:
        self.arith()
        self.text()
        self.yes_no()
        self.naming()
        self.battle()
        self.data()

    # ---- 24-bit arithmetic on wMul (Red's hMultiply/hDivide, our own code)
    def arith(self) -> None:
        a = self.a
        m = RED_TIME_RAM["wMul"]
        a.label("MulSet")  # wMul = a
        a.ld([m + 2], "a")
        a.xor("a")
        a.ld([m], "a")
        a.ld([m + 1], "a")
        a.ret()

        a.label("Mul")  # wMul *= a (24 bits kept); keeps nothing
        a.ld("d", "a")
        a.ld("e", 0)
        a.ld("hl", 0)
        a.ld("b", 8)
        a.label(".loop")
        a.add("hl", "hl")
        a.rl("e")
        a.sla("d")
        a.jr("nc", ".skip")
        a.ld("a", [m + 2])
        a.add("a", "l")
        a.ld("l", "a")
        a.ld("a", [m + 1])
        a.adc("a", "h")
        a.ld("h", "a")
        a.ld("a", [m])
        a.adc("a", "e")
        a.ld("e", "a")
        a.label(".skip")
        a.dec("b")
        a.jr("nz", ".loop")
        a.jr("MulStore")

        a.label("Div")  # wMul /= a (a > 0); the remainder is dropped
        a.ld("d", "a")
        a.ld("a", [m])
        a.ld("e", "a")
        a.ld("a", [m + 1])
        a.ld("h", "a")
        a.ld("a", [m + 2])
        a.ld("l", "a")
        a.ld("c", 0)
        a.ld("b", 24)
        a.label(".loop")
        a.add("hl", "hl")
        a.rl("e")
        a.rl("c")
        a.jr("c", ".sub")  # the remainder passed 255: it is above the divisor
        a.ld("a", "c")
        a.cp("d")
        a.jr("c", ".next")
        a.label(".sub")
        a.ld("a", "c")
        a.sub("d")
        a.ld("c", "a")
        a.inc("l")  # a quotient bit into the freed low bit
        a.label(".next")
        a.dec("b")
        a.jr("nz", ".loop")
        a.label("MulStore")
        a.ld("a", "e")
        a.ld([m], "a")
        a.ld("a", "h")
        a.ld([m + 1], "a")
        a.ld("a", "l")
        a.ld([m + 2], "a")
        a.ret()

        a.label("MulByte")  # a = wMul capped at 255
        a.ld("a", [m])
        a.ld("b", "a")
        a.ld("a", [m + 1])
        a.or_("b")
        a.ld("a", 255)
        a.ret("nz")
        a.ld("a", [m + 2])
        a.ret()

        # CalcStat: a = base + DV, [wCalcLevel] = level -> a = (a * 2 * level) / 100 + 5, capped at 250 first
        a.label("CalcStat")
        a.call("MulSet")
        a.ld("a", 2)
        a.call("Mul")
        a.ld("a", ["wCalcLevel"])
        a.call("Mul")
        a.ld("a", 100)
        a.call("Div")
        a.call("MulByte")
        a.cp(250)
        a.jr("c", ".ok")
        a.ld("a", 250)
        a.label(".ok")
        a.add("a", 5)
        a.ret()

    # ---- text
    def text(self) -> None:
        a, wb, T = self.a, self.wb, self.T
        top = C.TILE_MAP + 12 * C.TILE_MAP_WIDTH

        a.label("Say")  # hl = speech, de = where to go after it: the speech starts this frame
        a.ld("a", "l")
        a.ld(["wTextLo"], "a")
        a.ld("a", "h")
        a.ld(["wTextHi"], "a")
        a.ld("a", "e")
        a.ld(["wThenLo"], "a")
        a.ld("a", "d")
        a.ld(["wThenHi"], "a")
        a.ld("a", [C.IS_IN_BATTLE])
        a.and_("a")
        a.ld("a", 12)
        a.jr("z", ".top")
        a.xor("a")
        a.label(".top")
        a.ld(["wWinTop"], "a")
        wb.store("wState", self.S["TEXT"])
        wb.store(C.JOY_IGNORE, 0xFF)
        a.call("DrawTextBox")
        # fall through: start the box the pointer is on
        a.label("NextBox")  # [wText] = the box byte: 0 ends the speech
        a.ld("hl", "wTextLo")
        a.ld("a", "[hl+]")
        a.ld("h", "[hl]")
        a.ld("l", "a")
        a.ld("a", "[hl]")
        a.and_("a")
        a.jr("z", ".end")
        a.ld("b", "a")
        a.ld("hl", "wGlyphSeed")
        a.inc("[hl]")
        a.call("ClearTextBox")
        a.xor("a")
        a.ld(["wTextCol"], "a")
        a.ld(["wTextMode"], "a")
        a.inc("a")
        a.ld(["wTextDelay"], "a")
        a.ld("a", "b")
        a.and_(0xC0)
        a.cp(0xC0)
        a.jr("nz", ".letters")
        a.ld("a", "b")  # a pause: wTimer = units * 16 frames
        a.and_(0x3F)
        a.swap("a")
        a.ld(["wTimer"], "a")
        self.wb.store("wTextLeft", 0)
        self.wb.store("wTextMode", 2)
        a.ret()
        a.label(".letters")
        a.ld("a", "b")
        a.and_(0x3F)
        a.ld(["wTextLeft"], "a")
        a.ret()
        a.label(".end")  # go where the speech said; the program there sets the next state
        a.label("GoThen")  # where the speech, the prompt or the naming screen said to go next (flags kept)
        a.ld("hl", "wThenLo")
        a.ld("a", "[hl+]")
        a.ld("h", "[hl]")
        a.ld("l", "a")
        a.jp("hl")

        a.label("CloseText")  # back to the overworld: redraw (the window's frame, the wTileMap mirror)
        wb.zero("wState", C.JOY_IGNORE)
        wb.store("wRedraw", 1)
        wb.store("wWindowDirty", 1)  # the window off again, sprites on
        a.ret()

        a.label("StText")
        wb.store(C.JOY_IGNORE, 0xFF)
        a.ld("a", ["wTextMode"])
        a.cp(1)
        a.jr("z", ".prompt")
        a.jr("nc", ".pause")
        a.ld("a", ["wTextLeft"])
        a.and_("a")
        a.jr("z", ".printed")
        a.ld("hl", "wTextDelay")
        a.ld("a", ["wJoyHeld"])
        a.and_(0x03)  # A or B held: a letter every frame
        a.jr("nz", ".letter")
        a.dec("[hl]")
        a.ret("nz")
        a.label(".letter")
        a.ld("[hl]", TEXT_DELAY)
        a.ld("hl", "wTextLeft")
        a.dec("[hl]")
        a.ld("a", ["wTextCol"])
        a.ld("b", "a")
        a.inc("a")
        a.ld(["wTextCol"], "a")
        a.ld("a", "b")  # cell: row 14 col 1+k, or row 16 col 1+(k-18)
        a.ld("hl", C.TILE_MAP + 14 * C.TILE_MAP_WIDTH + 1)
        a.cp(18)
        a.jr("c", ".line")
        a.sub(18)
        a.ld("hl", C.TILE_MAP + 16 * C.TILE_MAP_WIDTH + 1)
        a.label(".line")
        wb.index()  # hl += a
        a.ld("a", ["wGlyphSeed"])
        a.add("a", "b")
        a.add("a", "b")
        a.add("a", "b")
        a.and_(GLYPHS - 1)
        a.add("a", T["GLYPH0"])
        a.ld("[hl]", "a")
        a.ret()
        a.label(".printed")  # the box is full: a prompt box waits, a battle box pauses
        a.ld("hl", "wTextLo")
        a.ld("a", "[hl+]")
        a.ld("h", "[hl]")
        a.ld("l", "a")
        a.bit(7, "[hl]")
        a.jr("nz", ".auto")
        wb.store("wTextMode", 1)
        wb.store("wTextDelay", 1)
        a.ret()
        a.label(".auto")
        wb.store("wTimer", AUTO_WAIT)
        wb.store("wTextMode", 2)
        a.ret()
        a.label(".pause")
        a.ld("hl", "wTimer")
        a.dec("[hl]")
        a.ret("nz")
        a.jr(".advance")
        a.label(".prompt")  # the arrow blinks (16 frames on, 16 off) until A or B
        arrow = C.TILE_MAP + C.TEXT_ARROW_ROW * C.TILE_MAP_WIDTH + C.TEXT_ARROW_COL
        a.ld("hl", "wTextDelay")
        a.dec("[hl]")
        a.ld("a", "[hl]")
        a.and_(0x10)
        a.ld("a", T["ARROW"])
        a.jr("z", ".blink")
        a.ld("a", T["BLANK"])
        a.label(".blink")
        a.ld([arrow], "a")
        a.ld("a", ["wJoyPressed"])
        a.and_(0x03)
        a.ret("z")
        a.label(".advance")
        a.ld("hl", "wTextLo")
        a.inc("[hl]")
        a.jr("nz", ".same")
        a.inc("hl")
        a.inc("[hl]")
        a.label(".same")
        a.jp("NextBox")

        a.label("DrawTextBox")  # rows 12-17 of wTileMap: Red's text box border, empty inside
        a.ld("hl", top)
        a.ld("bc", (T["TL"] << 8) | T["H"])
        a.ld("d", T["TR"])
        a.call(".row")
        a.ld("e", 4)
        a.label(".mid")
        a.ld("bc", (T["V"] << 8) | T["BLANK"])
        a.ld("d", T["V"])
        a.call(".row")
        a.dec("e")
        a.jr("nz", ".mid")
        a.ld("bc", (T["BL"] << 8) | T["H"])
        a.ld("d", T["BR"])
        a.label(".row")  # b, then c x 18, then d
        a.ld("a", "b")
        a.ld("[hl+]", "a")
        a.ld("a", "c")
        a.ld("b", C.TILE_MAP_WIDTH - 2)
        a.label(".fill")
        a.ld("[hl+]", "a")
        a.dec("b")
        a.jr("nz", ".fill")
        a.ld("a", "d")
        a.ld("[hl+]", "a")
        a.ret()

        a.label("ClearTextBox")  # the four inner rows blank again (keeps b)
        a.ld("hl", top + C.TILE_MAP_WIDTH + 1)
        a.ld("c", 4)
        a.label(".row")
        a.ld("a", T["BLANK"])
        a.ld("e", C.TILE_MAP_WIDTH - 2)
        a.label(".col")
        a.ld("[hl+]", "a")
        a.dec("e")
        a.jr("nz", ".col")
        a.inc("hl")
        a.inc("hl")
        a.dec("c")
        a.jr("nz", ".row")
        a.ret()

        a.label("MirrorWindow")  # in VBlank: two wTileMap rows from wWinTop on into the window map
        a.ld("a", ["wWinTop"])
        a.ld("b", "a")
        a.add("a", "a")
        a.add("a", "a")
        a.add("a", "a")
        a.ldh([0xFF4A], "a")  # WY
        a.ld("a", 7)
        a.ldh([0xFF4B], "a")  # WX
        a.ld("a", ["wMirrorRow"])
        a.cp("b")
        a.jr("nc", ".from")
        a.ld("a", "b")
        a.label(".from")
        a.cp(C.TILE_MAP_HEIGHT)
        a.jr("c", ".in")
        a.ld("a", "b")
        a.label(".in")
        a.ld("c", "a")  # c = the wTileMap row
        a.add("a", 2)
        a.ld(["wMirrorRow"], "a")
        a.ld("a", "c")
        a.sub("b")  # the window row
        a.ld("l", "a")
        a.ld("h", 0)
        for _ in range(5):
            a.add("hl", "hl")
        a.ld("de", 0x9C00)
        a.add("hl", "de")
        a.ld("d", "h")
        a.ld("e", "l")  # de = window map row
        a.ld("a", "c")  # hl = wTileMap + row * 20
        _times20(a, "bc")
        a.ld("bc", C.TILE_MAP)
        a.add("hl", "bc")
        a.ld("b", 2)
        a.label(".row")
        a.ld("c", C.TILE_MAP_WIDTH)
        a.label(".col")
        a.ld("a", "[hl+]")
        a.ld("[de]", "a")
        a.inc("de")
        a.dec("c")
        a.jr("nz", ".col")
        a.ld("a", "e")
        a.add("a", 32 - C.TILE_MAP_WIDTH)
        a.ld("e", "a")
        a.ld("a", "d")
        a.adc("a", 0)
        a.ld("d", "a")
        a.dec("b")
        a.jr("nz", ".row")
        a.ret()

    # ---- YES/NO
    def yes_no(self) -> None:
        a, wb, T = self.a, self.wb, self.T
        yes = C.TILE_MAP + 14 * C.TILE_MAP_WIDTH + 14
        no = C.TILE_MAP + 16 * C.TILE_MAP_WIDTH + 14
        a.label("AskYesNo")  # de = where to go with the answer (carry set: NO); the question's box stays up
        a.ld("a", "e")
        a.ld(["wThenLo"], "a")
        a.ld("a", "d")
        a.ld(["wThenHi"], "a")
        wb.zero(C.CURRENT_MENU_ITEM)
        wb.store("wState", self.S["YESNO"])
        wb.store(C.JOY_IGNORE, 0xFF)
        for cell in (yes, no):
            a.ld("hl", cell)
            a.ld("a", T["BLANK"])
            a.ld("[hl+]", "a")
            for k in range(3):
                a.ld("a", T["GLYPH0"] + (k * 3 + (cell == no)) % GLYPHS)
                a.ld("[hl+]", "a")
            a.ld("a", T["BLANK"])
            a.ld("[hl+]", "a")
        a.jr("YesNoCursor")
        a.label("StYesNo")
        wb.store(C.JOY_IGNORE, 0xFF)
        a.ld("a", ["wJoyPressed"])
        a.bit(1, "a")  # B: NO
        a.jr("nz", "YesNoAnswer")
        a.bit(0, "a")
        a.jr("nz", "YesNoGo")
        a.and_(0xC0)  # UP or DOWN: the other answer
        a.ret("z")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.xor(1)
        a.ld([C.CURRENT_MENU_ITEM], "a")
        a.label("YesNoCursor")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.and_("a")
        a.ld("bc", (T["CURSOR"] << 8) | T["BLANK"])
        a.jr("z", ".draw")
        a.ld("bc", (T["BLANK"] << 8) | T["CURSOR"])
        a.label(".draw")
        a.ld("a", "b")
        a.ld([yes], "a")
        a.ld("a", "c")
        a.ld([no], "a")
        a.ret()
        a.label("YesNoAnswer")  # B: NO
        wb.store(C.CURRENT_MENU_ITEM, 1)
        a.jr(".answer")
        a.label(".answer")
        a.label("YesNoGo")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.cp(1)
        a.ccf()  # carry: NO
        a.jp("GoThen")

    # ---- the naming screen
    def naming(self) -> None:
        a, wb, T = self.a, self.wb, self.T
        nick = C.WRAM["wPartyMonNicks"]
        name_row = C.TILE_MAP + 2 * C.TILE_MAP_WIDTH + 5

        a.label("OpenNaming")  # de = where to go once the name is confirmed
        a.ld("a", "e")
        a.ld(["wThenLo"], "a")
        a.ld("a", "d")
        a.ld(["wThenHi"], "a")
        wb.zero("wNameLen", "wNameX", "wNameY", "wNameCase", "wWinTop", C.CURRENT_MENU_ITEM, C.WRAM["wTopMenuItemX"])
        wb.store("wState", self.S["NAMING"])
        wb.store(C.JOY_IGNORE, 0xFF)
        a.ld("hl", C.TILE_MAP)
        a.ld("bc", C.TILE_MAP_WIDTH * C.TILE_MAP_HEIGHT)
        a.label(".clear")
        a.ld("a", T["BLANK"])
        a.ld("[hl+]", "a")
        wb.loop_bc(".clear")
        a.ld("hl", name_row + C.TILE_MAP_WIDTH)  # the name's underline
        a.ld("a", T["H"])
        for _ in range(NAME_MAX):
            a.ld("[hl+]", "a")
        a.call("DrawGrid")
        a.jp("NameCursor")

        a.label("DrawGrid")  # 9 x 5 letters at rows 5,7,..,13, cols 2,4,..,18; the case row 15
        a.ld("hl", C.TILE_MAP + 5 * C.TILE_MAP_WIDTH + 2)
        a.ld("a", ["wNameCase"])
        a.add("a", "a")
        a.add("a", "a")
        a.add("a", "a")
        a.ld("d", "a")  # glyph offset per case
        a.ld("c", 5)
        a.label(".row")
        a.ld("b", 9)
        a.label(".col")
        a.ld("a", "d")
        a.add("a", "b")
        a.add("a", "c")
        a.and_(GLYPHS - 1)
        a.add("a", T["GLYPH0"])
        a.ld("[hl+]", "a")
        a.inc("hl")
        a.dec("b")
        a.jr("nz", ".col")
        a.ld("de", 2 * C.TILE_MAP_WIDTH - 18)
        a.add("hl", "de")
        a.ld("a", ["wNameCase"])
        a.add("a", "a")
        a.add("a", "a")
        a.add("a", "a")
        a.ld("d", "a")
        a.dec("c")
        a.jr("nz", ".row")
        a.ld("hl", C.TILE_MAP + 15 * C.TILE_MAP_WIDTH + 2)  # "lower case" / "UPPER CASE"
        a.ld("a", ["wNameCase"])
        a.add("a", T["GLYPH0"] + 1)
        for _ in range(5):
            a.ld("[hl+]", "a")
        a.ret()

        a.label("NameCell")  # hl = the cursor's cell (left of the letter) in wTileMap
        a.ld("a", ["wNameY"])
        a.cp(5)
        a.ld("a", 15)
        a.jr("z", ".row")
        a.ld("a", ["wNameY"])
        a.add("a", "a")
        a.add("a", 5)
        a.label(".row")
        _times20(a, "de")
        a.ld("de", C.TILE_MAP + 1)
        a.add("hl", "de")
        a.ld("a", ["wNameY"])
        a.cp(5)
        a.ret("z")  # the case row has one place
        a.ld("a", ["wNameX"])
        a.add("a", "a")
        wb.index(None)
        a.ret()

        a.label("NameCursor")  # draw the cursor; Red keeps its row and column in these two bytes
        a.call("NameCell")
        a.ld("[hl]", T["CURSOR"])
        a.ld("a", ["wNameY"])
        a.ld([C.CURRENT_MENU_ITEM], "a")
        a.ld("a", ["wNameX"])
        a.ld([C.WRAM["wTopMenuItemX"]], "a")
        a.ret()

        a.label("StNaming")
        wb.store(C.JOY_IGNORE, 0xFF)
        a.ld("a", ["wJoyPressed"])
        a.and_("a")
        a.ret("z")
        a.ld("b", "a")
        a.call("NameCell")  # erase the cursor before it moves
        a.ld("[hl]", T["BLANK"])
        a.ld("a", "b")
        a.bit(3, "a")  # START: to END
        a.jr("nz", ".to_end")
        a.bit(2, "a")  # SELECT: the other case
        a.jr("nz", ".case")
        a.bit(1, "a")
        a.jr("nz", ".delete")
        a.bit(0, "a")
        a.jp("nz", ".press")
        for bit, coord, delta, size in ((6, "wNameY", -1, 6), (7, "wNameY", 1, 6),
                                        (5, "wNameX", -1, 9), (4, "wNameX", 1, 9)):
            skip = f".d{bit}"
            a.bit(bit, "b")
            a.jr("z", skip)
            if coord == "wNameX":  # the case row has no columns
                a.ld("a", ["wNameY"])
                a.cp(5)
                a.jp("z", "NameCursor")
            a.ld("a", [coord])
            if delta < 0:
                a.and_("a")
                a.jr("nz", f".dec{bit}")
                a.ld("a", size)
                a.label(f".dec{bit}")
                a.dec("a")
            else:
                a.inc("a")
                a.cp(size)
                a.jr("c", f".inc{bit}")
                a.xor("a")
                a.label(f".inc{bit}")
            a.ld([coord], "a")
            a.jp("NameCursor")
            a.label(skip)
        a.jp("NameCursor")
        a.label(".to_end")
        wb.store("wNameX", 8)
        wb.store("wNameY", 4)
        a.jp("NameCursor")
        a.label(".case")
        a.ld("a", ["wNameCase"])
        a.xor(1)
        a.ld(["wNameCase"], "a")
        a.call("DrawGrid")
        a.jp("NameCursor")
        a.label(".delete")
        a.ld("a", ["wNameLen"])
        a.and_("a")
        a.jp("z", "NameCursor")
        a.dec("a")
        a.ld(["wNameLen"], "a")
        a.ld("hl", name_row)
        wb.index(None)
        a.ld("[hl]", T["BLANK"])
        a.jp("NameCursor")
        a.label(".press")
        a.ld("a", ["wNameY"])
        a.cp(5)
        a.jr("z", ".case")
        a.cp(4)
        a.jr("nz", ".type")
        a.ld("a", ["wNameX"])
        a.cp(8)
        a.jr("z", ".done")
        a.label(".type")
        a.ld("a", ["wNameLen"])
        a.cp(NAME_MAX)
        a.jr("nc", ".to_end")
        a.ld("c", "a")
        a.inc("a")
        a.ld(["wNameLen"], "a")
        a.ld("a", ["wNameX"])
        a.ld("b", "a")
        a.ld("a", ["wNameY"])
        a.add("a", "b")
        a.and_(GLYPHS - 1)
        a.add("a", T["GLYPH0"])
        a.ld("b", "a")
        a.ld("a", "c")
        a.ld("hl", name_row)
        wb.index(None)
        a.ld("[hl]", "b")
        a.ld("a", "c")
        a.ld("hl", nick)
        wb.index(None)
        a.ld("a", "b")
        a.add("a", 0x80 - T["GLYPH0"])  # Red's letters start at 0x80 ("A")
        a.ld("[hl+]", "a")
        a.ld("[hl]", 0x50)  # Red's string terminator
        a.ld("a", ["wNameLen"])
        a.cp(NAME_MAX)
        a.jr("nc", ".to_end")  # full: the cursor jumps to END, as in Red
        a.jp("NameCursor")
        a.label(".done")  # an empty name keeps the species' name
        a.ld("a", ["wNameLen"])
        a.and_("a")
        a.jr("nz", ".named")
        a.call("DefaultNick")
        a.label(".named")
        a.jp("GoThen")

        a.label("DefaultNick")  # wPartyMonNicks = the species' name in Red's letters
        a.ld("hl", nick)
        for ch in self.w.starter.name[:NAME_MAX]:
            a.ld("a", 0x80 + (ord(ch) - ord("A")) if "A" <= ch <= "Z" else 0x7F)
            a.ld("[hl+]", "a")
        a.ld("[hl]", 0x50)
        a.ret()

    # ---- battles
    def battle(self) -> None:
        a, wb, T, S = self.a, self.wb, self.T, self.S
        W = C.WRAM
        menu_cells = [C.TILE_MAP + r * C.TILE_MAP_WIDTH + c for r, c in ((14, 8), (14, 14), (16, 8), (16, 14))]

        def say(speech: str, then: str) -> None:
            a.ld("hl", f"Speech_{speech}")
            a.ld("de", then)
            a.jp("Say")

        # Enemy set-up: a = MonTable index, [wCalcLevel] = level.
        a.label("SetupEnemy")
        a.ld(["wEnemyEntry"], "a")
        a.ld("a", ["wCalcLevel"])
        a.ld([C.ENEMY_MON_LEVEL], "a")
        a.call("MonEntry")  # hl -> hp, atk, def, spd, exp, power, stat move
        a.push("hl")
        a.ld("a", "[hl]")
        a.add("a", DV)
        a.call("CalcStat")
        a.ld("b", "a")
        a.ld("a", ["wCalcLevel"])
        a.add("a", "b")
        a.add("a", 5)
        for addr in (C.ENEMY_MON_HP, W["wEnemyMonMaxHP"]):
            a.ld([addr + 1], "a")
        a.xor("a")
        a.ld([C.ENEMY_MON_HP], "a")
        a.ld([W["wEnemyMonMaxHP"]], "a")
        for k, field in enumerate(("wEnemyMonAttack", "wEnemyMonDefense", "wEnemyMonSpeed")):
            a.pop("hl")
            a.inc("hl")
            a.push("hl")
            a.ld("a", "[hl]")
            a.add("a", DV)
            a.call("CalcStat")
            a.ld([W[field] + 1], "a")
            a.xor("a")
            a.ld([W[field]], "a")
        a.pop("hl")
        a.inc("hl")
        a.ld("a", "[hl+]")
        a.ld(["wEnemyExp"], "a")
        a.ld("a", "[hl+]")
        a.ld(["wEnemyMove"], "a")
        a.ret()

        a.label("MonEntry")  # hl = MonTable + 8 * [wEnemyEntry] (8 bytes a mon)
        a.ld("a", ["wEnemyEntry"])
        a.add("a", "a")
        a.add("a", "a")
        a.add("a", "a")
        wb.index("MonTable")
        a.ret()

        # BeginBattle: b = the battle type (1 wild, 2 trainer), the enemy set up: the battle screen, the
        # party mon into wBattleMon, the intro text.
        a.label("BeginBattle")
        a.ld("a", "b")
        a.ld([C.IS_IN_BATTLE], "a")
        wb.zero(C.BATTLE_RESULT, W["wNumRunAttempts"], "wMirrorRow", "wWinTop")
        wb.store("wPlayerStage", 6)
        wb.store("wEnemyStage", 6)
        for src, dst, n in ((C.PARTY_MON1_HP, C.BATTLE_MON_HP, 2), (W["wPartyMon1MaxHP"], W["wBattleMonMaxHP"], 8),
                            (C.PARTY_MON1_LEVEL, W["wBattleMonLevel"], 1), (C.PARTY_MON1_MOVES, W["wBattleMonMoves"], 4),
                            (W["wPartyMon1Species"], W["wBattleMonSpecies"], 1)):
            a.ld("hl", dst)
            a.ld("de", src)
            a.ld("bc", n)
            a.call("Copy")
        a.ld("hl", C.TILE_MAP)  # the battle screen: blank, two mons, two HP bars, the text box below
        a.ld("bc", C.TILE_MAP_WIDTH * 12)
        a.label(".clear")
        a.ld("a", T["BLANK"])
        a.ld("[hl+]", "a")
        wb.loop_bc(".clear")
        for (row, col), first in (((2, 14), T["ENEMY"]), ((7, 3), T["PLAYER"])):
            for k, (dr, dc) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
                a.ld("a", first + k)
                a.ld([C.TILE_MAP + (row + dr) * C.TILE_MAP_WIDTH + col + dc], "a")
        a.call("DrawHpBars")
        a.ld("a", [C.IS_IN_BATTLE])
        a.cp(C.BATTLE_TRAINER)
        a.jr("z", ".trainer")
        say("WILD_APPEARS", "OpenBattleMenu")
        a.label(".trainer")
        say("TRAINER_APPEARS", "OpenBattleMenu")

        a.label("DrawHpBars")  # 6 tiles each: filled = ceil(HP * 6 / max HP)
        for hp, mx, cell in ((C.ENEMY_MON_HP, W["wEnemyMonMaxHP"], C.TILE_MAP + 1 * C.TILE_MAP_WIDTH + 2),
                             (C.BATTLE_MON_HP, W["wBattleMonMaxHP"], C.TILE_MAP + 9 * C.TILE_MAP_WIDTH + 11)):
            a.ld("a", [hp + 1])
            a.call("MulSet")
            a.ld("a", 6)
            a.call("Mul")
            a.ld("a", [mx + 1])  # + max - 1: rounds up
            a.dec("a")
            a.ld("b", "a")
            a.ld("hl", RED_TIME_RAM["wMul"] + 2)
            a.ld("a", "[hl]")
            a.add("a", "b")
            a.ld("[hl-]", "a")
            a.ld("a", "[hl]")
            a.adc("a", 0)
            a.ld("[hl]", "a")
            a.ld("a", [mx + 1])
            a.call("Div")
            a.ld("a", [RED_TIME_RAM["wMul"] + 2])
            a.ld("c", "a")
            a.ld("hl", cell)
            a.ld("b", 6)
            loop = f".bar{cell}"
            a.label(loop)
            a.ld("a", "c")
            a.and_("a")
            a.ld("a", T["HP_EMPTY"])
            a.jr("z", f".put{cell}")
            a.dec("c")
            a.ld("a", T["HP_FULL"])
            a.label(f".put{cell}")
            a.ld("[hl+]", "a")
            a.dec("b")
            a.jr("nz", loop)
        a.ret()

        a.label("OpenBattleMenu")
        wb.zero(C.CURRENT_MENU_ITEM, "wTurnStep")
        wb.store("wState", S["B_MENU"])
        a.call("DrawTextBox")
        for k, cell in enumerate(menu_cells):
            for j in range(4):
                a.ld("a", T["GLYPH0"] + (k + 2 * j) % GLYPHS)
                a.ld([cell + 1 + j], "a")
        a.jp("MenuCursor")

        a.label("MenuCursor")  # the FIGHT/PKMN/ITEM/RUN cursor from CURRENT_MENU_ITEM
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.ld("b", "a")
        for k, cell in enumerate(menu_cells):
            a.ld("a", "b")
            a.cp(k)
            a.ld("a", T["BLANK"])
            a.jr("nz", f".c{k}")
            a.ld("a", T["CURSOR"])
            a.label(f".c{k}")
            a.ld([cell], "a")
        a.ret()

        a.label("StBattleMenu")
        wb.store(C.JOY_IGNORE, 0xFF)
        a.ld("a", ["wJoyPressed"])
        a.bit(0, "a")
        a.jr("nz", ".select")
        a.ld("b", 1)
        a.and_(0x30)  # LEFT/RIGHT: the other column
        a.jr("nz", ".move")
        a.ld("b", 2)
        a.ld("a", ["wJoyPressed"])
        a.and_(0xC0)  # UP/DOWN: the other row
        a.ret("z")
        a.label(".move")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.xor("b")
        a.ld([C.CURRENT_MENU_ITEM], "a")
        a.jp("MenuCursor")
        a.label(".select")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.and_("a")
        a.jp("z", "OpenMoves")
        a.cp(3)
        a.jp("z", "TryRun")
        # PKMN, ITEM: a screen of their own that B leaves (the party and the bag have nothing to do here)
        wb.store("wState", S["B_SUB"])
        a.call("ClearTextBox")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.add("a", T["GLYPH0"])
        for j in range(6):
            a.ld([C.TILE_MAP + 14 * C.TILE_MAP_WIDTH + 2 + j], "a")
        a.ret()

        a.label("StBattleSub")
        wb.store(C.JOY_IGNORE, 0xFF)
        a.ld("a", ["wJoyPressed"])
        a.bit(1, "a")
        a.ret("z")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.push("af")
        a.call("OpenBattleMenu")
        a.pop("af")
        a.ld([C.CURRENT_MENU_ITEM], "a")
        a.jp("MenuCursor")

        a.label("OpenMoves")  # the moves the mon knows, one a row, cursor on the first
        wb.store("wState", S["B_MOVES"])
        a.call("ClearTextBox")
        a.ld("hl", W["wBattleMonMoves"])
        a.ld("c", 0)
        a.label(".count")
        a.ld("a", "[hl+]")
        a.and_("a")
        a.jr("z", ".counted")
        a.inc("c")
        a.ld("a", "c")
        a.cp(4)
        a.jr("c", ".count")
        a.label(".counted")
        a.ld("a", "c")
        a.ld(["wMoveCount"], "a")
        for k in range(4):  # four rows; a move's name on its row
            a.ld("a", "c")
            a.cp(k + 1)
            a.jr("c", f".nomove{k}")
            for j in range(6):
                a.ld("a", T["GLYPH0"] + (3 * k + j) % GLYPHS)
                a.ld([C.TILE_MAP + (13 + k) * C.TILE_MAP_WIDTH + 3 + j], "a")
            a.label(f".nomove{k}")
        wb.zero(C.CURRENT_MENU_ITEM)
        a.jp("MoveCursor")

        a.label("MoveCursor")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.ld("b", "a")
        for k in range(4):
            a.ld("a", "b")
            a.cp(k)
            a.ld("a", T["BLANK"])
            a.jr("nz", f".m{k}")
            a.ld("a", T["CURSOR"])
            a.label(f".m{k}")
            a.ld([C.TILE_MAP + (13 + k) * C.TILE_MAP_WIDTH + 2], "a")
        a.ret()

        a.label("StBattleMoves")
        wb.store(C.JOY_IGNORE, 0xFF)
        a.ld("a", ["wJoyPressed"])
        a.bit(1, "a")
        a.jp("nz", "OpenBattleMenu")
        a.bit(0, "a")
        a.jr("nz", ".chosen")
        a.ld("a", ["wMoveCount"])
        a.ld("c", "a")
        a.ld("a", ["wJoyPressed"])
        a.bit(6, "a")
        a.jr("nz", ".up")
        a.bit(7, "a")
        a.ret("z")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.inc("a")
        a.cp("c")
        a.jr("c", ".set")
        a.xor("a")
        a.jr(".set")
        a.label(".up")
        a.ld("a", [C.CURRENT_MENU_ITEM])
        a.and_("a")
        a.jr("nz", ".dec")
        a.ld("a", "c")
        a.label(".dec")
        a.dec("a")
        a.label(".set")
        a.ld([C.CURRENT_MENU_ITEM], "a")
        a.jp("MoveCursor")
        a.label(".chosen")  # the move's power; then who is faster goes first (a tie: a coin)
        a.ld("a", [C.CURRENT_MENU_ITEM])
        wb.index(W["wBattleMonMoves"])
        a.ld("a", "[hl]")
        a.ld("b", "a")
        a.ld("hl", "MovePowerTable")
        a.label(".find")
        a.ld("a", "[hl+]")
        a.and_("a")
        a.jr("z", ".found")  # not listed: a stat move
        a.cp("b")
        a.ld("a", "[hl+]")
        a.jr("nz", ".find")
        a.label(".found")
        a.ld(["wTurnPower"], "a")
        wb.zero("wTurnStep")
        wb.compare_speeds()
        a.jr("z", ".tie")
        a.jp("nc", "PlayerAttacks")
        a.jp("EnemyAttacks")
        a.label(".tie")
        a.call("RngByte")
        a.rrca()
        a.jp("c", "PlayerAttacks")
        a.jp("EnemyAttacks")

        # ---- one attack. Damage(b = level, c = power, d = attack, e = defense) -> a
        a.label("Damage")
        a.push("de")
        a.ld("a", "b")  # level * 2 / 5 + 2
        a.add("a", "a")
        a.call("MulSet")
        a.ld("a", 5)
        a.push("bc")
        a.call("Div")
        a.pop("bc")
        a.ld("a", [RED_TIME_RAM["wMul"] + 2])
        a.add("a", 2)
        a.call("MulSet")
        a.ld("a", "c")
        a.call("Mul")
        a.pop("de")
        a.push("de")
        a.ld("a", "d")
        a.call("Mul")
        a.pop("de")
        a.ld("a", "e")
        a.call("Div")
        a.ld("a", 50)
        a.call("Div")
        a.ld("hl", RED_TIME_RAM["wMul"] + 2)  # + 2
        a.ld("a", "[hl]")
        a.add("a", 2)
        a.ld("[hl-]", "a")
        a.ld("a", "[hl]")
        a.adc("a", 0)
        a.ld("[hl-]", "a")
        a.ld("a", "[hl]")
        a.adc("a", 0)
        a.ld("[hl]", "a")
        a.label(".rand")  # x 217..255 / 255
        a.call("RngByte")
        a.cp(217)
        a.jr("c", ".rand")
        a.call("Mul")
        a.ld("a", 255)
        a.call("Div")
        a.jp("MulByte")

        a.label("StagedAttack")  # a = attack, b = stage (0..6) -> a = attack * ratio / 100, at least 1
        a.push("bc")
        a.call("MulSet")
        a.pop("bc")
        a.ld("a", "b")
        wb.index("StageRatios")
        a.ld("a", "[hl]")
        a.call("Mul")
        a.ld("a", 100)
        a.call("Div")
        a.call("MulByte")
        a.and_("a")
        a.ret("nz")
        a.inc("a")
        a.ret()

        def lower_stage(target: str) -> None:  # a stat move: the target's attack one stage down (not below -6)
            a.ld("hl", target)
            a.ld("a", "[hl]")
            a.and_("a")
            a.jr("z", ".said")
            a.dec("[hl]")
            a.label(".said")

        def hit(stage: str, attack: int, defense: int, power, level: int, target_hp: int) -> None:
            """Damage(level, power, the attack at its stage, the defense) off the target's HP."""
            a.label(".hit")
            a.ld("a", [stage])
            a.ld("b", "a")
            a.ld("a", [attack + 1])
            a.call("StagedAttack")
            a.ld("d", "a")
            a.ld("a", [defense + 1])
            a.ld("e", "a")
            a.ld("a", [power])
            a.ld("c", "a")
            a.ld("a", [level])
            a.ld("b", "a")
            a.call("Damage")
            a.ld("c", "a")
            a.ld("hl", target_hp + 1)
            a.call("TakeHp")

        a.label("PlayerAttacks")
        a.ld("a", ["wTurnPower"])
        a.and_("a")
        a.jr("nz", ".hit")
        lower_stage("wEnemyStage")
        say("PLAYER_USES", "AfterPlayerAttack")
        hit("wPlayerStage", W["wBattleMonAttack"], W["wEnemyMonDefense"], "wTurnPower", W["wBattleMonLevel"],
            C.ENEMY_MON_HP)
        a.call("DrawHpBars")
        say("PLAYER_USES", "AfterPlayerAttack")

        a.label("TakeHp")  # [hl] (a 1-byte HP, the high byte above it is 0) -= c, floored at 0
        a.ld("a", "[hl]")
        a.sub("c")
        a.jr("nc", ".ok")
        a.xor("a")
        a.label(".ok")
        a.ld("[hl]", "a")
        a.ret()

        a.label("EnemyAttacks")  # half its turns the stat move, if it has one
        a.call("MonEntry")
        a.ld("de", 6)
        a.add("hl", "de")
        a.ld("a", "[hl]")
        a.and_("a")
        a.jr("z", ".hit")
        a.call("RngByte")
        a.rrca()
        a.jr("nc", ".hit")
        lower_stage("wPlayerStage")
        say("ENEMY_USES", "AfterEnemyAttack")
        hit("wEnemyStage", W["wEnemyMonAttack"], W["wBattleMonDefense"], "wEnemyMove", C.ENEMY_MON_LEVEL,
            C.BATTLE_MON_HP)
        a.ld([C.PARTY_MON1_HP + 1], "a")  # the party's HP follows each hit
        a.call("DrawHpBars")
        say("ENEMY_USES", "AfterEnemyAttack")

        for name, target_hp, fainted, other in (("AfterPlayerAttack", C.ENEMY_MON_HP, "EnemyFainted", "EnemyAttacks"),
                                                 ("AfterEnemyAttack", C.BATTLE_MON_HP, "PlayerFainted", "PlayerAttacks")):
            a.label(name)  # the target fainted; or the other side's attack if it has not moved yet; or the menu
            a.ld("a", [target_hp + 1])
            a.and_("a")
            a.jp("z", fainted)
            a.ld("hl", "wTurnStep")
            a.ld("a", "[hl]")
            a.inc("[hl]")
            a.and_("a")
            a.jp("z", other)
            a.jp("OpenBattleMenu")

        a.label("PlayerFainted")
        say("PLAYER_FAINTED", "AfterPlayerFainted")
        a.label("AfterPlayerFainted")
        wb.store(C.BATTLE_RESULT, 1)
        if any(t.forgiven for t in self.w.trainers):
            a.ld("a", ["wTrainer"])
            a.and_("a")
            a.jr("z", ".real")
            a.dec("a")
            a.ld("hl", "TrainerLostTable")
            a.call("TableWord")
            a.ld("a", "h")
            a.or_("l")
            a.jr("z", ".real")
            a.jp("TrainerAfter")
            a.label(".real")
        say("BLACKED_OUT", "RedBlackout")
        a.label("RedBlackout")
        a.call("CloseText")
        a.jp("Blackout")

        a.label("TableWord")  # a = index, hl = table of words -> hl = the word
        a.add("a", "a")
        wb.index(None)
        a.ld("a", "[hl+]")
        a.ld("h", "[hl]")
        a.ld("l", "a")
        a.ret()

        a.label("EnemyFainted")
        say("ENEMY_FAINTED", "GainExp")
        a.label("GainExp")  # base exp * level / 7, x 1.5 from a trainer, into the 3-byte experience
        a.ld("a", ["wEnemyExp"])
        a.call("MulSet")
        a.ld("a", [C.ENEMY_MON_LEVEL])
        a.call("Mul")
        a.ld("a", 7)
        a.call("Div")
        a.ld("a", [C.IS_IN_BATTLE])
        a.cp(C.BATTLE_TRAINER)
        a.jr("nz", ".add")
        a.ld("a", 3)
        a.call("Mul")
        a.ld("a", 2)
        a.call("Div")
        a.label(".add")
        a.ld("de", RED_TIME_RAM["wMul"] + 2)
        a.ld("hl", W["wPartyMon1Exp"] + 2)
        a.and_("a")  # clear carry
        for k in range(3):
            a.ld("a", "[de]")
            a.adc("a", "[hl]")
            a.ld("[hl-]", "a")
            a.dec("de")
        say("GAINED_EXP", "LevelCheck")

        a.label("LevelCheck")  # one level per pass while the experience reaches the next level's
        a.ld("a", [C.PARTY_MON1_LEVEL])
        a.cp(100)
        a.jp("nc", "BattleWonText")
        a.inc("a")
        a.ld("b", "a")
        a.add("a", "a")
        a.add("a", "b")  # 3 * (level + 1)
        wb.index("ExpTable")
        a.ld("de", W["wPartyMon1Exp"])
        for k in range(3):  # compare big-endian: exp - table
            a.ld("a", "[de]")
            a.cp("[hl]")
            a.jp("c", "BattleWonText")
            a.jr("nz", ".up")
            a.inc("de")
            a.inc("hl")
        a.label(".up")
        a.ld("hl", C.PARTY_MON1_LEVEL)
        a.inc("[hl]")
        a.ld("a", "[hl]")
        a.ld([W["wBattleMonLevel"]], "a")
        a.ld("a", [W["wPartyMon1MaxHP"] + 1])
        a.ld("b", "a")
        a.push("bc")
        a.call("PartyStats")
        a.pop("bc")
        a.ld("a", [W["wPartyMon1MaxHP"] + 1])  # HP rises with max HP, as in Red
        a.sub("b")
        a.ld("b", "a")
        a.ld("a", [C.BATTLE_MON_HP + 1])
        a.add("a", "b")
        a.ld([C.BATTLE_MON_HP + 1], "a")
        a.ld([C.PARTY_MON1_HP + 1], "a")
        a.ld("hl", W["wBattleMonMaxHP"])
        a.ld("de", W["wPartyMon1MaxHP"])
        a.ld("bc", 8)
        a.call("Copy")
        a.call("DrawHpBars")
        say("GREW", "LevelCheck")

        a.label("PartyStats")  # the starter's stats at its level into the party struct
        a.ld("a", [C.PARTY_MON1_LEVEL])
        a.ld(["wCalcLevel"], "a")
        base = MONS[self.w.starter.name]
        a.ld("a", base.hp + DV)
        a.call("CalcStat")
        a.ld("b", "a")
        a.ld("a", ["wCalcLevel"])
        a.add("a", "b")
        a.add("a", 5)
        a.ld([W["wPartyMon1MaxHP"] + 1], "a")
        for field, value in (("wPartyMon1Attack", base.attack), ("wPartyMon1Defense", base.defense),
                             ("wPartyMon1Speed", base.speed)):
            a.ld("a", value + DV)
            a.call("CalcStat")
            a.ld([W[field] + 1], "a")
        a.ret()

        a.label("BattleWonText")
        a.ld("a", [C.IS_IN_BATTLE])
        a.cp(C.BATTLE_TRAINER)
        a.jp("nz", "EndBattle")
        say("TRAINER_DEFEATED", "TrainerAfter")
        a.label("TrainerAfter")  # the trainer's own words after the battle, won or lost (its "<event>:after")
        a.ld("a", ["wTrainer"])
        a.dec("a")
        a.ld("hl", "TrainerAfterTable")
        a.call("TableWord")
        a.ld("a", [C.BATTLE_RESULT])
        a.and_("a")
        a.ld("de", "EndBattle")
        a.jp("z", "Say")
        a.ld("de", "RedBlackout")
        a.jp("Say")

        a.label("EndBattle")  # won: the HP back into the party, a trainer's event, a wild mon owned
        a.ld("a", [C.BATTLE_MON_HP + 1])
        a.ld([C.PARTY_MON1_HP + 1], "a")
        wb.zero(C.IS_IN_BATTLE, C.BATTLE_RESULT, C.ENEMY_MON_HP, C.ENEMY_MON_HP + 1)
        a.call("CloseText")
        if self.w.trainers:
            wb.trainer_won(".wild")
            a.ret()
            a.label(".wild")
        wb.mark_owned()
        a.ret()

        a.label("TryRun")
        a.ld("a", [C.IS_IN_BATTLE])
        a.cp(C.BATTLE_TRAINER)
        a.jr("nz", ".wild")
        say("NO_RUNNING", "OpenBattleMenu")
        a.label(".wild")  # Red's TryRunningFromBattle
        a.ld("hl", W["wNumRunAttempts"])
        a.inc("[hl]")
        wb.compare_speeds()
        a.jr("nc", ".escape")
        a.ld("a", "b")
        a.srl("a")
        a.srl("a")
        a.and_("a")
        a.jr("z", ".escape")
        a.push("af")
        a.ld("a", [W["wBattleMonSpeed"] + 1])
        a.call("MulSet")
        a.ld("a", 32)
        a.call("Mul")
        a.pop("af")
        a.call("Div")
        a.ld("a", [RED_TIME_RAM["wMul"] + 1])
        a.and_("a")
        a.jr("nz", ".escape")
        a.ld("a", [W["wNumRunAttempts"]])
        a.ld("c", "a")
        a.ld("a", [RED_TIME_RAM["wMul"] + 2])
        a.label(".tries")
        a.dec("c")
        a.jr("z", ".roll")
        a.add("a", 30)
        a.jr("c", ".escape")
        a.jr(".tries")
        a.label(".roll")
        a.ld("b", "a")
        a.call("RngByte")
        a.ld("c", "a")
        a.ld("a", "b")
        a.cp("c")
        a.jr("nc", ".escape")
        wb.store("wTurnStep", 1)  # a failed escape: the enemy attacks
        say("CANT_ESCAPE", "EnemyAttacks")
        a.label(".escape")
        say("GOT_AWAY", "FleeBattle")
        a.label("FleeBattle")  # nothing gained; the enemy keeps its HP
        a.ld("a", [C.BATTLE_MON_HP + 1])
        a.ld([C.PARTY_MON1_HP + 1], "a")
        wb.zero(C.IS_IN_BATTLE)
        a.jp("CloseText")

        # Wild battle from grass (TryEncounter decided one happens): species and level, then the battle.
        a.label("WildBattle")
        a.call("RngByte")
        a.and_(7)
        a.ld(["wEnemyIndex"], "a")
        a.call("EnemyEntry")
        a.ld("a", "[hl+]")
        a.ld([C.ENEMY_MON_SPECIES], "a")
        a.ld([C.CUR_OPPONENT], "a")
        a.ld("a", "[hl+]")
        a.ld("b", "a")
        wb.mark_dex(step_past=True)  # Pokedex: seen
        base, mask = self.w.wild_levels
        a.call("RngByte")
        a.and_(mask)
        a.add("a", base)
        a.ld(["wCalcLevel"], "a")
        a.ld("a", ["wEnemyIndex"])  # the wild species are MonTable's first eight entries
        a.call("SetupEnemy")
        a.ld("b", C.BATTLE_WILD)
        a.jp("BeginBattle")

    def data(self) -> None:
        a = self.a
        a.label("MonTable")  # 8 bytes a mon: HP, attack, defense, speed, base exp, power, stat move, 0
        for name in self.mon_order():
            m = MONS[name]
            a.db(m.hp, m.attack, m.defense, m.speed, m.base_exp, m.power, int(m.stat_move), 0)
        a.label("StageRatios")
        a.db(*STAGE_RATIOS)
        a.label("MovePowerTable")
        for move, power in MOVE_POWER.items():
            a.db(move, power)
        a.db(0, 0)
        a.label("ExpTable")
        for n in range(101):
            v = exp_for_level(n)
            a.db((v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF)
        speeches = dict(BATTLE_TEXT)
        speeches.update(self.w.speech_table())
        speeches["NONE"] = ()
        a.label("TrainerAfterTable")
        a.dw(*[f"Speech_{_label(t.event + ':after')}" if t.event + ":after" in speeches else "Speech_NONE"
               for t in self.w.trainers])
        for name, boxes in sorted(speeches.items()):
            a.label(f"Speech_{_label(name)}")
            a.db(*boxes, 0)

    def mon_order(self) -> list[str]:
        """MonTable: the eight wild species in EnemyTable's order, then every trainer's mon."""
        return [s.name for s in self.w.encounters] + [t.mon for t in self.w.trainers]
