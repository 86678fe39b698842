"""Plain numpy/Python references for the native core: kernels (csrc/ram.h, obs.h, explore.h, reward.h, core.h),
the step's decisions (step.h: frame control, helpers) and the auto-HM decision and menu macro (hm.h, hm_macro.h).

Readable and slow on purpose: tests check the native kernels against these on random and real inputs,
and benchmarks report the native speed as a ratio against them.
"""

from __future__ import annotations

import numpy as np

from pokerl_fast.game import constants as C

WRAM_BASE, WRAM_SIZE = C.WRAM_BASE, C.WRAM_SIZE
DEX_SPECIES = 151
OBS_H, OBS_W, OBS_PACKED_W = C.OBS_H, C.OBS_W, C.OBS_PACKED_W
VISIT_CELL = 8
VISIT_ROWS, VISIT_COLS = OBS_H // VISIT_CELL, OBS_W // VISIT_CELL
VISIT_PLAYER_ROW, VISIT_PLAYER_COL = 4, 4
NUM_REQUIRED_EVENTS = C.NUM_REQUIRED_EVENTS
REQUIRED_EVENT_BITS = tuple(C.EVENT_FLAGS_BY_NAME[name] for name in C.REQUIRED_EVENTS)
MAP_OFFSETS = {m[0]: (m[2], m[3]) for m in C.MAPS}  # map id -> (global_x, global_y)
KEY_ITEMS = frozenset(C.KEY_ITEMS)

TERM_NAMES = (
    "explore", "events", "required_events", "badges", "levels",
    "heal", "battles_won", "key_items", "dex", "blackout",
)
INFO_NAMES = ("map", "x", "y", "badges", "events", "required_events", "explore", "levels", "in_battle", "scene",
              "scene_changed", "game_beaten")
RAM_FEATURE_NAMES = (
    "x", "y", "facing_down", "facing_up", "facing_left", "facing_right", "badges", "party_count",
    "level_sum", "hp_fraction", "wild_battle", "trainer_battle", "events", "required_events",
    "dex_owned", "dex_seen", "money", "bag_items",
    *(f"slot_hp_{i}" for i in range(6)), *(f"slot_level_{i}" for i in range(6)),
)


def _byte(wram, addr: int) -> int:
    return int(wram[addr - WRAM_BASE])


def _bytes(wram, addr: int, n: int) -> np.ndarray:
    return np.array(wram[addr - WRAM_BASE: addr - WRAM_BASE + n], dtype=np.uint8)


def _popcount(arr: np.ndarray) -> int:
    return int(np.unpackbits(np.asarray(arr, dtype=np.uint8)).sum())


def party_slot_filled(wram, i: int) -> bool:
    """ram.h party_slot_filled: the slot's struct species is the party list's and its max HP is not 0 (Red's
    AddPartyMon fills the struct only after the nickname prompt)."""
    o = i * C.PARTY_MON_STRIDE
    return (_byte(wram, C.PARTY_MON1_SPECIES + o) == _byte(wram, C.PARTY_SPECIES + i)
            and (_byte(wram, C.PARTY_MON1_MAX_HP + o) | _byte(wram, C.PARTY_MON1_MAX_HP + o + 1)) != 0)


def decode_ram(wram) -> dict:
    """The fields of csrc/ram.h RamState, from 8192 WRAM bytes."""
    wram = np.asarray(wram, dtype=np.uint8)
    party_count = 0  # wPartyCount's slots up to the first not yet filled (ram.h party_slot_filled)
    while party_count < min(_byte(wram, C.PARTY_COUNT), C.PARTY_MAX) and party_slot_filled(wram, party_count):
        party_count += 1
    species, levels, hp, max_hp = (np.zeros(6, dt) for dt in (np.uint8, np.uint8, np.uint16, np.uint16))
    for i in range(party_count):
        o = i * C.PARTY_MON_STRIDE
        species[i] = _byte(wram, C.PARTY_SPECIES + i)
        levels[i] = _byte(wram, C.PARTY_MON1_LEVEL + o)
        hp[i] = _byte(wram, C.PARTY_MON1_HP + o) * 256 + _byte(wram, C.PARTY_MON1_HP + o + 1)
        max_hp[i] = _byte(wram, C.PARTY_MON1_MAX_HP + o) * 256 + _byte(wram, C.PARTY_MON1_MAX_HP + o + 1)

    money = 0
    for b in _bytes(wram, C.PLAYER_MONEY, 3):  # BCD, nibbles taken as they are
        money = money * 100 + (int(b) >> 4) * 10 + (int(b) & 0xF)

    bag_ids, bag_qty = [], []
    for i in range(min(_byte(wram, C.NUM_BAG_ITEMS), C.BAG_MAX_ITEMS)):
        item = _byte(wram, C.BAG_ITEMS + 2 * i)
        if item == 0xFF:
            break
        bag_ids.append(item)
        bag_qty.append(_byte(wram, C.BAG_ITEMS + 2 * i + 1))

    events = _bytes(wram, C.EVENT_FLAGS, C.EVENT_FLAGS_BYTES)
    dex_owned = _bytes(wram, C.POKEDEX_OWNED, C.POKEDEX_BYTES)
    dex_seen = _bytes(wram, C.POKEDEX_SEEN, C.POKEDEX_BYTES)
    badges = _byte(wram, C.OBTAINED_BADGES)
    return {
        "map": _byte(wram, C.CUR_MAP), "x": _byte(wram, C.X_COORD), "y": _byte(wram, C.Y_COORD),
        "facing": _byte(wram, C.PLAYER_FACING), "badges": badges, "party_count": party_count,
        "species": species, "levels": levels, "hp": hp, "max_hp": max_hp,
        "in_battle": _byte(wram, C.IS_IN_BATTLE), "cur_opponent": _byte(wram, C.CUR_OPPONENT),
        "enemy_hp": _byte(wram, C.ENEMY_MON_HP) * 256 + _byte(wram, C.ENEMY_MON_HP + 1), "money": money, "num_bag_items": len(bag_ids),
        "bag_ids": np.array(bag_ids, np.uint8), "bag_qty": np.array(bag_qty, np.uint8),
        "events": events, "dex_owned": dex_owned, "dex_seen": dex_seen,
        "joy_ignore": _byte(wram, C.JOY_IGNORE), "walk_counter": _byte(wram, C.WALK_COUNTER),
        "badge_count": bin(badges).count("1"),
        "event_count": _popcount(events),
        "required_count": sum((_byte(wram, addr) >> bit) & 1 for addr, bit in REQUIRED_EVENT_BITS),
        "level_sum": int(levels.sum()), "hp_sum": int(hp.astype(np.int64).sum()),
        "max_hp_sum": int(max_hp.astype(np.int64).sum()),
        "dex_owned_count": _popcount(dex_owned), "dex_seen_count": _popcount(dex_seen),
    }


SCENE_FREE, SCENE_TEXT, SCENE_BATTLE = 0, 1, 2


def scene_of(wram) -> int:
    """ram.h scene_of: 2 in a battle (wIsInBattle != 0), 1 while a text box or menu is up (wFontLoaded's bit), else 0."""
    if _byte(wram, C.IS_IN_BATTLE):
        return SCENE_BATTLE
    return SCENE_TEXT if (_byte(wram, C.FONT_LOADED) >> C.BIT_FONT_LOADED) & 1 else SCENE_FREE


def game_beaten(wram) -> bool:
    """ram.h game_beaten: the player is in the Hall of Fame with EVENT_BEAT_CHAMPION_RIVAL set."""
    return (_byte(wram, C.CUR_MAP) == C.MAP_HALL_OF_FAME
            and bool(_byte(wram, C.EVENT_BEAT_CHAMPION_RIVAL_ADDR) >> C.EVENT_BEAT_CHAMPION_RIVAL_BIT & 1))


def scene_fingerprint(wram) -> int:
    """ram.h scene_fingerprint: FNV-1a (64 bits) over wTileMap with the text arrow's cell as 0, the menu cursor,
    then wBattleMonHP and wEnemyMonHP byte by byte, interleaved."""
    tiles = _bytes(wram, C.TILE_MAP, C.TILE_MAP_WIDTH * C.TILE_MAP_HEIGHT).copy()
    tiles[C.TEXT_ARROW_ROW * C.TILE_MAP_WIDTH + C.TEXT_ARROW_COL] = 0
    data = list(tiles) + [_byte(wram, C.CURRENT_MENU_ITEM)]
    for k in range(2):
        data += [_byte(wram, C.BATTLE_MON_HP + k), _byte(wram, C.ENEMY_MON_HP + k)]
    h = 1469598103934665603
    for b in data:
        h = ((h ^ int(b)) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def ready_for_input(wram) -> bool:
    return _byte(wram, C.JOY_IGNORE) == 0 and _byte(wram, C.WALK_COUNTER) == 0


def pack_shades(shades: np.ndarray) -> np.ndarray:
    """(OBS_H, OBS_W) shades 0..3 -> (OBS_H, OBS_PACKED_W) bytes, 4 pixels per byte, first pixel in the high bits."""
    s = np.asarray(shades, np.uint8).reshape(OBS_H, OBS_PACKED_W, 4)
    return (s[..., 0] << 6 | s[..., 1] << 4 | s[..., 2] << 2 | s[..., 3]).astype(np.uint8)


def unpack_shades(packed: np.ndarray) -> np.ndarray:
    """Inverse of pack_shades; works on any leading shape (..., OBS_H, OBS_PACKED_W) -> (..., OBS_H, OBS_W)."""
    p = np.asarray(packed, np.uint8)
    s = np.stack([(p >> 6) & 3, (p >> 4) & 3, (p >> 2) & 3, p & 3], axis=-1)
    return s.reshape(*p.shape[:-1], p.shape[-1] * 4)


def encode_screen(rgba: np.ndarray) -> np.ndarray:
    """(SCREEN_H, SCREEN_W, 4) RGBA -> (OBS_H, OBS_PACKED_W) packed shades of each 2x2 block's top-left pixel."""
    r = np.asarray(rgba, np.uint8)[::2, ::2, 0]
    return pack_shades(3 - (r >> 6))


def _tile_color(vram: np.ndarray, offset: int, px: int, py: int) -> int:
    lo, hi = int(vram[offset + 2 * py]), int(vram[offset + 2 * py + 1])
    return ((lo >> (7 - px)) & 1) | (((hi >> (7 - px)) & 1) << 1)


def render_half(vram, oam, regs) -> np.ndarray:
    """72x80 shades of the DMG picture (even rows and columns) from VRAM, OAM and LCD registers
    (LCDC, SCY, SCX, WY, WX, BGP, OBP0, OBP1): the plain reference of render.h."""
    vram = np.asarray(vram, np.uint8)
    oam = np.asarray(oam, np.uint8)
    lcdc, scy, scx, wy, wx, bgp, obp0, obp1 = (int(r) for r in regs)
    wx -= 7
    out = np.zeros((OBS_H, OBS_W), np.uint8)
    if not lcdc & 0x80:
        return out
    obj_h = 16 if lcdc & 0x04 else 8

    def bg_offset(index):
        return index * 16 if lcdc & 0x10 else 0x1000 + (index - 256 if index > 127 else index) * 16

    for row in range(OBS_H):
        ly = 2 * row
        objs = [i for i in range(40) if int(oam[4 * i]) - 16 <= ly < int(oam[4 * i]) - 16 + obj_h][:10]
        for col in range(OBS_W):
            lx = 2 * col
            color = 0
            if lcdc & 0x01:
                if lcdc & 0x20 and ly >= wy and wx < C.SCREEN_W and lx >= wx:
                    base, x, y = (0x1C00 if lcdc & 0x40 else 0x1800), lx - wx, ly - wy
                else:
                    base, x, y = (0x1C00 if lcdc & 0x08 else 0x1800), (lx + scx) & 255, (ly + scy) & 255
                color = _tile_color(vram, bg_offset(int(vram[base + (y // 8) * 32 + x // 8])), x % 8, y % 8)
            shade = (bgp >> (2 * color)) & 3
            if lcdc & 0x02:
                # Opaque objects covering this pixel; the smallest X wins, then the lowest OAM index.
                hits = []
                for i in objs:
                    oy, ox, tile, flags = (int(v) for v in oam[4 * i:4 * i + 4])
                    oy, ox = oy - 16, ox - 8
                    if not ox <= lx < ox + 8:
                        continue
                    py = ly - oy if not flags & 0x40 else obj_h - 1 - (ly - oy)
                    px = lx - ox if not flags & 0x20 else 7 - (lx - ox)
                    if obj_h == 16:
                        tile &= 0xFE
                    c = _tile_color(vram, tile * 16 + (py // 8) * 16, px, py % 8)
                    if c:
                        hits.append((ox, i, c, flags))
                if hits:
                    _, _, c, flags = min(hits)
                    if not (flags & 0x80 and color != 0):
                        shade = ((obp1 if flags & 0x10 else obp0) >> (2 * c)) & 3
            out[row, col] = shade
    return out


def hp_fraction(d: dict) -> float:
    if d["max_hp_sum"] <= 0:
        return 0.0
    return min(max(d["hp_sum"] / d["max_hp_sum"], 0.0), 1.0)


def ram_features(d: dict) -> np.ndarray:
    f = [d["x"] / 255.0, d["y"] / 255.0]
    f += [1.0 if d["facing"] == 4 * k else 0.0 for k in range(4)]
    f += [d["badge_count"] / 8.0, d["party_count"] / 6.0, d["level_sum"] / 600.0, hp_fraction(d)]
    f += [float(d["in_battle"] == 1), float(d["in_battle"] == 2)]
    f += [d["event_count"] / 256.0, d["required_count"] / NUM_REQUIRED_EVENTS]
    f += [d["dex_owned_count"] / DEX_SPECIES, d["dex_seen_count"] / DEX_SPECIES]
    f += [d["money"] / 999999.0, d["num_bag_items"] / C.BAG_MAX_ITEMS]
    f += [min(max(int(h) / int(m), 0.0), 1.0) if m > 0 else 0.0 for h, m in zip(d["hp"], d["max_hp"])]
    f += [int(lv) / 100.0 for lv in d["levels"]]
    return np.array(f, np.float64).astype(np.float32)


def map_unfinished(d: dict) -> bool:
    """csrc/ram.h map_unfinished: some completion event of the player's map (C.MAP_COMPLETION_EVENTS) is unset;
    maps without an entry count as finished."""
    for name in C.MAP_COMPLETION_EVENTS.get(d["map"], ()):
        addr, bit = C.EVENT_FLAGS_BY_NAME[name]
        if not (int(d["events"][addr - C.EVENT_FLAGS]) >> bit) & 1:
            return True
    return False


def progress_features(d: dict, wram) -> np.ndarray:
    """csrc/obs.h encode_progress: per slot species / 255, level / 100, HP fraction; key items held (KEY_ITEMS
    order); required events set (REQUIRED_EVENTS order)."""
    f = [int(v) / 255.0 for v in d["species"]]
    f += [int(v) / 100.0 for v in d["levels"]]
    f += [min(max(int(h) / int(m), 0.0), 1.0) if m > 0 else 0.0 for h, m in zip(d["hp"], d["max_hp"])]
    held = set(int(i) for i in d["bag_ids"])
    f += [float(item in held) for item in C.KEY_ITEMS]
    f += [float((_byte(wram, addr) >> bit) & 1) for addr, bit in REQUIRED_EVENT_BITS]
    return np.array(f, np.float64).astype(np.float32)


def global_tile(map_id: int, x: int, y: int):
    """(gx, gy) on the Kanto map, or None when the map has no offset or the tile falls outside."""
    if map_id not in MAP_OFFSETS:
        return None
    gx, gy = MAP_OFFSETS[map_id][0] + x, MAP_OFFSETS[map_id][1] + y
    if 0 <= gx < C.KANTO_WIDTH and 0 <= gy < C.KANTO_HEIGHT:
        return gx, gy
    return None


CANVAS_CELL = 16  # canvas.h: canvas pixels per map step, the screen's own 16x16


def render_background(vram, regs) -> np.ndarray:
    """render.h render_background: the background layer alone (no window, no objects), (SCREEN_H, SCREEN_W)
    shades after BGP; zeros with the LCD or the background off."""
    vram = np.asarray(vram, np.uint8)
    lcdc, scy, scx, _wy, _wx, bgp = (int(r) for r in regs[:6])
    out = np.zeros((C.SCREEN_H, C.SCREEN_W), np.uint8)
    if not lcdc & 0x80 or not lcdc & 0x01:
        return out
    base = 0x1C00 if lcdc & 0x08 else 0x1800
    for ly in range(C.SCREEN_H):
        y = (ly + scy) & 255
        for lx in range(C.SCREEN_W):
            x = (lx + scx) & 255
            index = int(vram[base + (y // 8) * 32 + x // 8])
            offset = index * 16 if lcdc & 0x10 else 0x1000 + (index - 256 if index > 127 else index) * 16
            out[ly, lx] = (bgp >> (2 * _tile_color(vram, offset, x % 8, y % 8))) & 3
    return out


def window_on_screen(regs) -> bool:
    lcdc, wy, wx = int(regs[0]), int(regs[3]), int(regs[4])
    return bool(lcdc & 0x20 and lcdc & 0x01 and wy < C.SCREEN_H and wx < C.SCREEN_W + 7)


def paint_view(vram, oam, regs, wram, clip, canvas: np.ndarray, painted: np.ndarray) -> int:
    """csrc/canvas.h paint_view: the background layer (full resolution, no window, no sprites) onto the Kanto
    canvas at the player's global position, placed by the player's sprite (OAM entry 0), only within clip
    (x0, y0, x1, y1); 0 unless a still picture of the map."""
    d = decode_ram(wram)
    g = global_tile(d["map"], d["x"], d["y"])
    lcdc = int(regs[0])
    if g is None or d["in_battle"] or d["walk_counter"] or not lcdc & 0x80 or not lcdc & 0x01 \
            or window_on_screen(regs):
        return 0
    top, sx = int(oam[0]) - 16, int(oam[1]) - 8
    if sx < 0 or top < -4 or sx % 16 or top % 16 not in (0, 12):
        return 0
    pc, pr = sx // 16, (top + 4) // 16
    bg = None
    n = 0
    for r in range(C.SCREEN_H // CANVAS_CELL):
        for c in range(C.SCREEN_W // CANVAS_CELL):
            tx, ty = g[0] - pc + c, g[1] - pr + r
            if not (0 <= tx < C.KANTO_WIDTH and 0 <= ty < C.KANTO_HEIGHT) \
                    or not (clip[0] <= tx < clip[2] and clip[1] <= ty < clip[3]):
                continue
            if bg is None:
                bg = render_background(vram, regs)
            canvas[ty * CANVAS_CELL:(ty + 1) * CANVAS_CELL, tx * CANVAS_CELL:(tx + 1) * CANVAS_CELL] = \
                bg[r * CANVAS_CELL:(r + 1) * CANVAS_CELL, c * CANVAS_CELL:(c + 1) * CANVAS_CELL]
            painted[ty, tx] = 1
            n += 1
    return n


class Exploration:
    """Visited global tiles (bool bitmap) plus a set of (map, x, y) for tiles with no global place."""

    def __init__(self):
        self.bitmap = np.zeros((C.KANTO_HEIGHT, C.KANTO_WIDTH), bool)
        self.fallback: set[tuple[int, int, int]] = set()

    @property
    def count(self) -> int:
        return int(self.bitmap.sum()) + len(self.fallback)

    def reset(self):
        self.bitmap[:] = False
        self.fallback.clear()

    def visit(self, map_id: int, x: int, y: int):
        g = global_tile(map_id, x, y)
        if g is None:
            self.fallback.add((map_id, x, y))
        else:
            self.bitmap[g[1], g[0]] = True

    def visited(self, map_id: int, x: int, y: int) -> bool:
        """x, y may lie past the map's edge: on the global map that is a neighbouring map's tile."""
        g = global_tile(map_id, x, y)
        if g is not None:
            return bool(self.bitmap[g[1], g[0]])
        return (map_id, x, y) in self.fallback

    def crop(self, map_id: int, x: int, y: int) -> np.ndarray:
        """The (OBS_H, OBS_PACKED_W) packed visited mask: VISIT_ROWS x VISIT_COLS cells of VISIT_CELL pixels square,
        the player at cell (VISIT_PLAYER_ROW, VISIT_PLAYER_COL)."""
        cells = np.zeros((VISIT_ROWS, VISIT_COLS), np.uint8)
        for r in range(VISIT_ROWS):
            for c in range(VISIT_COLS):
                if self.visited(map_id, x + c - VISIT_PLAYER_COL, y + r - VISIT_PLAYER_ROW):
                    cells[r, c] = 3
        shades = np.kron(cells, np.ones((VISIT_CELL, VISIT_CELL), np.uint8))
        return pack_shades(shades)


class Reward:
    """The reward table of csrc/reward.h: score per term, reward = sum_k w_k * delta score_k."""

    def __init__(self, levels_cap: float = 0.0):
        self.levels_cap = levels_cap

    def level_value(self, level: int) -> float:
        """A level up to levels_cap counts 1, each above it a quarter (0: no taper)."""
        cap = self.levels_cap
        return float(level) if cap <= 0 or level <= cap else cap + (level - cap) / 4.0

    def party_value(self, d: dict, start: int = 0, stop: int | None = None) -> float:
        total = 0.0
        for level in d["levels"][start:d["party_count"] if stop is None else stop]:
            total += self.level_value(int(level))
        return total

    def reset(self, d: dict, explore_count: int):
        self.heal = 0.0
        self.battles_won = 0
        self.blackouts = 0
        self.event_base = d["event_count"]
        self.level_base = self.party_value(d)
        self.items_seen = set(int(i) for i in d["bag_ids"]) & KEY_ITEMS
        self.most = {}
        self._note_most(d)
        self._remember(d)
        self.score = self.scores(d, explore_count)
        self.sums = np.zeros(len(TERM_NAMES), np.float64)

    def _note_most(self, d: dict):
        """reward.h note_most: the most event bits, required events, badges and dex bits seen this episode."""
        now = {"events": d["event_count"], "required": d["required_count"], "badges": d["badge_count"],
               "dex": d["dex_seen_count"] + d["dex_owned_count"]}
        self.most = {k: max(v, self.most.get(k, v)) for k, v in now.items()}

    def _remember(self, d: dict):
        self.prev_in_battle = d["in_battle"]
        self.prev_party_count = d["party_count"]
        self.prev_blackout = self._blackout(d)
        self.prev_hp_fraction = hp_fraction(d)
        self.prev_level_value = self.party_value(d)

    @staticmethod
    def _blackout(d: dict) -> bool:
        return d["party_count"] > 0 and d["hp_sum"] == 0

    @staticmethod
    def blackout_forgiven(d: dict) -> bool:
        """Red's HandlePlayerBlackOut: a loss to the rival in Oak's lab (the starter battle) is no blackout."""
        return d["cur_opponent"] == C.OPP_RIVAL1 and d["map"] == C.MAP_IDS["OAKS_LAB"]

    @staticmethod
    def battle_won(prev_in_battle: int, d: dict) -> bool:
        """A trainer battle ended with the enemy mon fainted (wEnemyMonHP 0) and party HP left (wild wins pay
        only through their levels)."""
        return prev_in_battle == C.BATTLE_TRAINER and d["in_battle"] == 0 and d["enemy_hp"] == 0 and d["hp_sum"] > 0

    def _follow_party(self, d: dict):
        """A joining mon's level value goes into the baseline; when the party shrinks, the levels score stays put."""
        count, prev = d["party_count"], self.prev_party_count
        if count > prev:
            self.level_base += self.party_value(d, prev, count)
        elif count < prev:
            self.level_base += self.party_value(d) - self.prev_level_value

    def scores(self, d: dict, explore_count: int) -> np.ndarray:
        return np.array([
            explore_count,
            max(self.most["events"] - self.event_base, 0),
            self.most["required"],
            self.most["badges"],
            self.party_value(d) - self.level_base,
            self.heal,
            self.battles_won,
            len(self.items_seen),
            self.most["dex"],
            self.blackouts,
        ], np.float64)

    def step(self, d: dict, explore_count: int, weights) -> float:
        frac = hp_fraction(d)
        if (self.prev_in_battle == 0 and d["in_battle"] == 0 and self.prev_party_count == d["party_count"]
                and frac > self.prev_hp_fraction):
            self.heal += frac - self.prev_hp_fraction
        if self.battle_won(self.prev_in_battle, d):
            self.battles_won += 1
        if self._blackout(d) and not self.prev_blackout and not self.blackout_forgiven(d):
            self.blackouts += 1
        self._follow_party(d)
        self._note_most(d)
        self.items_seen.update(int(i) for i in d["bag_ids"] if int(i) in KEY_ITEMS)
        self._remember(d)
        now = self.scores(d, explore_count)
        deltas = np.asarray(weights, np.float32).astype(np.float64) * (now - self.score)
        self.sums += deltas
        self.score = now
        total = 0.0
        for v in deltas:  # same summation order as the native loop
            total += float(v)
        return total


class ReferenceEnv:
    """One env's full update, as csrc/core.h does it; returns the values Kernels writes to its buffers."""

    def __init__(self, weights, explore_boost: float = 1.0, observe_progress: bool = False,
                 revisit_half_life: float = 0.0, levels_cap: float = 0.0):
        self.weights = np.asarray(weights, np.float32)
        self.explore = Exploration()
        self.reward = Reward(levels_cap)
        self.started = False
        self.explore_boost = explore_boost
        self.observe_progress = observe_progress
        self.revisit_half_life = revisit_half_life
        self.clock = 0
        self.last_visit: dict[tuple[int, int], int] = {}  # global (x, y) -> clock when last stood on

    def _stamp(self):
        g = global_tile(self.ram["map"], self.ram["x"], self.ram["y"])
        if self.revisit_half_life and g is not None:
            self.last_visit[g] = self.clock

    def _tile_value(self, d: dict) -> float:
        return self.explore_boost if map_unfinished(d) else 1.0

    def _revisit_gain(self, d: dict) -> float:
        """A known tile's regained value: 1 - 2^(-steps since last stood on / half-life), x the tile value."""
        g = global_tile(d["map"], d["x"], d["y"])
        if not self.revisit_half_life or g is None:
            return 0.0
        elapsed = self.clock - self.last_visit[g]
        return (1.0 - 2.0 ** (-elapsed / self.revisit_half_life)) * self._tile_value(d)

    def reset(self, wram, screen) -> dict:
        self.wram = wram
        self.ram = decode_ram(wram)
        self.explore.reset()
        self.explore.visit(self.ram["map"], self.ram["x"], self.ram["y"])
        self.clock = 0
        self._stamp()
        self.reward.reset(self.ram, self.explore.count)
        self.scene_print = scene_fingerprint(wram)
        self.scene_changed = 0
        self.started = True
        return self.outputs(screen, 0.0)

    def update(self, wram, screen, global_counts: np.ndarray) -> dict:
        if not self.started:
            return self.reset(wram, screen)
        self.wram = wram
        self.ram = d = decode_ram(wram)
        self.clock += 1
        fresh = not self.explore.visited(d["map"], d["x"], d["y"])
        self.explore.visit(d["map"], d["x"], d["y"])
        g = global_tile(d["map"], d["x"], d["y"])
        if g is not None:
            global_counts[g[1], g[0]] += 1
        # The explore score grows by each new tile's value (1, or explore_boost on an unfinished map), and by a
        # known tile's regained value when revisit decay is on.
        gain = self._tile_value(d) if fresh else self._revisit_gain(d)
        self._stamp()
        print_ = scene_fingerprint(wram)
        self.scene_changed = int(print_ != self.scene_print)
        self.scene_print = print_
        r = self.reward.step(d, self.reward.score[0] + gain, self.weights)
        return self.outputs(screen, r)

    def reset_exploration(self, screen) -> dict:
        """core.h reset_exploration: forget the visited tiles but the current one; the explore score stays."""
        d = self.ram
        self.explore.reset()
        self.explore.visit(d["map"], d["x"], d["y"])
        self._stamp()
        return self.outputs(screen, 0.0)

    def outputs(self, screen, reward: float) -> dict:
        d = self.ram
        out = {
            "screen": encode_screen(screen),
            "visited": self.explore.crop(d["map"], d["x"], d["y"]),
            "ram": ram_features(d),
            "map_id": d["map"],
            "reward": np.float32(reward),
            "term_sums": self.reward.sums.astype(np.float32),
        }
        info = (d["map"], d["x"], d["y"], d["badge_count"], d["event_count"], d["required_count"],
                self.explore.count, d["level_sum"], d["in_battle"], scene_of(self.wram), self.scene_changed,
                int(game_beaten(self.wram)))
        out.update({"info_" + name: v for name, v in zip(INFO_NAMES, info)})
        if self.observe_progress:
            out["progress"] = progress_features(d, self.wram)
        return out


# ---------------------------------------------------------------------------------------- auto-HM (hm.h)
_FRONT_TILE = {  # facing -> (column, row) of the tile in front of the player in wTileMap
    0x0: (C.FRONT_TILE_DOWN_COL, C.FRONT_TILE_DOWN_ROW), 0x4: (C.FRONT_TILE_UP_COL, C.FRONT_TILE_UP_ROW),
    0x8: (C.FRONT_TILE_LEFT_COL, C.FRONT_TILE_LEFT_ROW), 0xC: (C.FRONT_TILE_RIGHT_COL, C.FRONT_TILE_RIGHT_ROW),
}
_FACING_DPAD = {0x0: 0x8, 0x4: 0x4, 0x8: 0x2, 0xC: 0x1}  # facing -> joypad direction bit (down, up, left, right)
_WATER_TILESETS = (0, 3, 5, 7, 13, 14, 17, 22, 23)  # OVERWORLD FOREST DOJO GYM SHIP SHIP_PORT CAVERN FACILITY PLATEAU


def party_mon_with_move(wram, move: int) -> int:
    """Party slot of the first mon that knows ``move``, or -1."""
    for i in range(min(_byte(wram, C.PARTY_COUNT), C.PARTY_MAX)):
        if move in _bytes(wram, C.PARTY_MON1_MOVES + i * C.PARTY_MON_STRIDE, 4).tolist():
            return i
    return -1


def hm_plan(wram, dmask: int) -> tuple[int, int, int, int]:
    """(kind 0 none/1 cut/2 surf, party index, field-move index, POKEMON's start-menu index) after a step."""
    none = (0, -1, 0, 0)
    facing = _byte(wram, C.PLAYER_FACING)
    if facing not in _FRONT_TILE or dmask != _FACING_DPAD[facing]:
        return none
    if not ready_for_input(wram) or _byte(wram, C.IS_IN_BATTLE) != 0:
        return none
    col, row = _FRONT_TILE[facing]
    tile = _byte(wram, C.TILE_MAP + row * C.TILE_MAP_WIDTH + col)
    tileset = _byte(wram, C.CUR_MAP_TILESET)
    badges = _byte(wram, C.OBTAINED_BADGES)
    tree = {C.TILESET_OVERWORLD: C.CUT_TREE_TILE_OVERWORLD, C.TILESET_GYM: C.CUT_TREE_TILE_GYM}.get(tileset)
    water = {C.WATER_TILE} if tileset == C.TILESET_SHIP_PORT else {
        C.WATER_TILE, C.WATER_SHORE_TILE_1, C.WATER_SHORE_TILE_2}
    if tile == tree and badges >> C.BIT_CASCADEBADGE & 1:
        kind, move, field_move = 1, C.MOVE_CUT, C.FIELD_MOVE_CUT
    elif (tileset in _WATER_TILESETS and tile in water and badges >> C.BIT_SOULBADGE & 1
          and _byte(wram, C.WALK_BIKE_SURF_STATE) != C.SURF_STATE_SURFING):
        kind, move, field_move = 2, C.MOVE_SURF, C.FIELD_MOVE_SURF
    else:
        return none
    mon = party_mon_with_move(wram, move)
    if mon < 0:
        return none
    addr, bit = C.EVENT_FLAGS_BY_NAME["EVENT_GOT_POKEDEX"]
    return kind, mon, field_move, _byte(wram, addr) >> bit & 1


def strength_ready(wram) -> bool:
    """A party mon knows Strength and the Rainbow badge is owned."""
    return bool(_byte(wram, C.OBTAINED_BADGES) >> C.BIT_RAINBOWBADGE & 1) and party_mon_with_move(
        wram, C.MOVE_STRENGTH) >= 0


# ------------------------------------------------------------------------- the step's decisions (step.h)
HELPER_AUTO_DIALOG, HELPER_INFINITE_MONEY, HELPER_AUTO_FLASH, HELPER_AUTO_HM = 1, 2, 4, 8
DIALOG_NONE, DIALOG_PRESS, DIALOG_RELEASE = 0, 1, 2


def frame_control(f: int, hold: int, min_frames: int, max_frames: int, adaptive: bool, helpers: int,
                  tapping: bool, wram) -> tuple[bool, int, bool]:
    """What frame ``f`` of a step does before it is ticked: (release the agent's button, auto-dialog
    DIALOG_NONE/PRESS/RELEASE of A, whether it is the step's last frame)."""
    release = f == hold
    dialog = DIALOG_NONE
    if helpers & HELPER_AUTO_DIALOG and f >= hold:
        if tapping:
            dialog = DIALOG_RELEASE
        elif _byte(wram, C.JOY_IGNORE) != 0:
            dialog = DIALOG_PRESS
    last = f == max_frames - 1 or (adaptive and f >= min_frames - 1 and f > hold and ready_for_input(wram))
    return release, dialog, last


def keep_helpers(wram: np.ndarray, helpers: int) -> None:
    """In place: infinite money pins wPlayerMoney at 999999 (BCD); auto-flash pins wMapPalOffset at 0."""
    if helpers & HELPER_INFINITE_MONEY:
        wram[C.PLAYER_MONEY - WRAM_BASE:C.PLAYER_MONEY - WRAM_BASE + 3] = 0x99
    if helpers & HELPER_AUTO_FLASH:
        wram[C.MAP_PAL_OFFSET - WRAM_BASE] = 0


def keep_strength(wram: np.ndarray) -> None:
    """In place: auto-HM sets Strength active while a mon knows it and the Rainbow badge is owned."""
    if strength_ready(wram):
        wram[C.STATUS_FLAGS1 - WRAM_BASE] |= 1 << C.BIT_STRENGTH_ACTIVE


# ---------------------------------------------------------------------- the auto-HM macro (hm_macro.h)
HM_OP_DONE, HM_OP_TAP, HM_OP_WAIT, HM_OP_CLEAR_MENU = 0, 1, 2, 3
HM_RUNNING, HM_USED, HM_ABORTED, HM_NOTHING = 0, 1, 2, 3
HM_HOLD, HM_TAP = 8, 24
HM_OPEN_TRIES, HM_OPEN_WAIT, HM_SETTLE = 3, 80, 16
HM_NAV_TRIES, HM_CLOSE_TAPS, HM_CLOSE_LIMIT = 12, 4, 600
HM_NO_MENU = 0xFF
_PAD_UP, _PAD_DOWN, _BTN_A, _BTN_B, _BTN_START = 0x4, 0x8, 0x1, 0x2, 0x8


def field_menu_index(wram, field_move: int) -> int:
    """Row of ``field_move`` in the open field-move submenu (its wMaxMenuItem = field moves + 2), or -1."""
    moves = []
    for m in _bytes(wram, C.FIELD_MOVES, 4).tolist():
        if m == 0:
            break
        moves.append(m)
    if _byte(wram, C.MAX_MENU_ITEM) != len(moves) + 2 or field_move not in moves:
        return -1
    return moves.index(field_move)


class HmMacro:
    """The menu macro written the plain way, as one generator that reads RAM between commands:
    START -> POKEMON -> the mon -> the move, then B until the menus are closed. ``next(wram)`` returns
    (op, dmask, smask, frames) given the RAM the previous command left, like the native state machine."""

    def __init__(self, wram, dmask: int):
        self.plan = hm_plan(wram, dmask)
        self.outcome = HM_NOTHING if self.plan[0] == 0 else HM_RUNNING
        self._wram = wram
        self._commands = self._macro() if self.outcome == HM_RUNNING else iter(())

    def next(self, wram) -> tuple[int, int, int, int]:
        self._wram = wram
        return next(self._commands, (HM_OP_DONE, 0, 0, 0))

    def _ram(self, addr: int) -> int:
        return _byte(self._wram, addr)

    def _macro(self):
        _, mon, field_move, start_item = self.plan
        yield from self._open(_BTN_START)
        # Red's start menu keeps its item count in wMaxMenuItem (7 with the Pokedex, 6 without)
        ok = self._ram(C.MAX_MENU_ITEM) == C.START_MENU_ITEMS_WITH_POKEDEX - 1 + start_item
        ok = ok and (yield from self._cursor_to(start_item))
        if ok:
            yield from self._open(_BTN_A)
            ok = self._ram(C.MAX_MENU_ITEM) == self._ram(C.PARTY_COUNT) - 1
        ok = ok and (yield from self._cursor_to(mon))
        row = -1
        if ok:
            yield from self._open(_BTN_A)
            row = field_menu_index(self._wram, field_move)
        ok = ok and row >= 0 and (yield from self._cursor_to(row))
        if ok:
            yield HM_OP_TAP, 0, _BTN_A, HM_TAP
        self.outcome = HM_USED if ok else HM_ABORTED
        for _ in range(HM_CLOSE_TAPS):
            yield HM_OP_TAP, 0, _BTN_B, HM_TAP
        frames = HM_CLOSE_TAPS * HM_TAP
        while not ready_for_input(self._wram) and frames < HM_CLOSE_LIMIT:
            frames += 1
            yield HM_OP_WAIT, 0, 0, 1

    def _open(self, button: int):
        """Forget the last menu, press ``button`` until a menu answers (wMaxMenuItem written), let it settle."""
        yield HM_OP_CLEAR_MENU, 0, 0, 0
        for _ in range(HM_OPEN_TRIES):
            yield HM_OP_TAP, 0, button, HM_TAP
            waited = 0
            while self._ram(C.MAX_MENU_ITEM) == HM_NO_MENU and waited < HM_OPEN_WAIT:
                waited += 1
                yield HM_OP_WAIT, 0, 0, 1
            if self._ram(C.MAX_MENU_ITEM) != HM_NO_MENU:
                yield HM_OP_WAIT, 0, 0, HM_SETTLE
                return

    def _cursor_to(self, item: int):
        for _ in range(HM_NAV_TRIES):
            cur = self._ram(C.CURRENT_MENU_ITEM)
            if cur == item:
                break
            yield HM_OP_TAP, _PAD_DOWN if cur < item else _PAD_UP, 0, HM_TAP
        return self._ram(C.CURRENT_MENU_ITEM) == item
