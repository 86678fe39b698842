"""A picture of where the agents have been on the global Kanto tile map.

Counts (visits per global tile, summed over envs) become a heat-coloured PNG: log scale,
unvisited tiles dark, each map's rectangle outlined faintly so the picture reads as Kanto.
"""

from __future__ import annotations

import functools
import io
import os
import pathlib

import numpy as np

from pokerl_fast._native._core import CANVAS_CELL  # canvas pixels per map step (csrc/canvas.h)
from pokerl_fast.game.constants import KANTO_HEIGHT, KANTO_WIDTH, MAPS
from pokerl_fast.fileio import write_atomic

__all__ = ["explored_map_rgb", "render_explored_map", "global_position", "map_window", "kanto_picture", "envs_picture",
           "kanto_picture_geometry",
           "render_kanto_map", "UNVISITED", "OUTLINE"]

UNVISITED = (12, 12, 20)
OUTLINE = (48, 48, 64)
# Heat scale anchors, dim purple (one visit) -> red -> yellow -> white (most visits).
_ANCHORS = np.array([(80, 20, 120), (200, 40, 60), (250, 140, 20), (250, 230, 80), (255, 255, 255)], np.float64)


@functools.lru_cache(maxsize=1)
def _outline_mask() -> np.ndarray:
    """True on the border tiles of every map's rectangle."""
    mask = np.zeros((KANTO_HEIGHT, KANTO_WIDTH), bool)
    for _id, _name, gx, gy, w, h in MAPS:
        x0, y0 = max(gx, 0), max(gy, 0)
        x1, y1 = min(gx + w, KANTO_WIDTH) - 1, min(gy + h, KANTO_HEIGHT) - 1
        if x1 < x0 or y1 < y0:
            continue
        mask[y0, x0:x1 + 1] = mask[y1, x0:x1 + 1] = True
        mask[y0:y1 + 1, x0] = mask[y0:y1 + 1, x1] = True
    mask.flags.writeable = False
    return mask


def _heat(t: np.ndarray) -> np.ndarray:
    """Colours for t in [0, 1], interpolated between the anchors."""
    pos = t * (len(_ANCHORS) - 1)
    lo = np.clip(np.floor(pos).astype(np.int64), 0, len(_ANCHORS) - 2)
    frac = (pos - lo)[:, None]
    return _ANCHORS[lo] * (1 - frac) + _ANCHORS[lo + 1] * frac


def explored_map_rgb(counts: np.ndarray) -> np.ndarray:
    """(KANTO_HEIGHT, KANTO_WIDTH, 3) uint8 picture of visit counts."""
    counts = np.asarray(counts)
    if counts.shape != (KANTO_HEIGHT, KANTO_WIDTH):
        raise ValueError(f"counts has shape {counts.shape}, expected (KANTO_HEIGHT, KANTO_WIDTH) = "
                         f"({KANTO_HEIGHT}, {KANTO_WIDTH}); pass the global visit-count array")
    if not (np.issubdtype(counts.dtype, np.integer) or np.issubdtype(counts.dtype, np.bool_)):
        raise ValueError(f"counts has dtype {counts.dtype}, expected an integer type (uint32 visit counts)")
    img = np.empty((KANTO_HEIGHT, KANTO_WIDTH, 3), np.uint8)
    img[:] = UNVISITED
    img[_outline_mask()] = OUTLINE
    visited = counts > 0
    if visited.any():
        logc = np.log1p(counts[visited].astype(np.float64))
        top = logc.max()
        # One visit maps to the first anchor; the most visited tile to white.
        base = np.log1p(1.0)
        t = (logc - base) / (top - base) if top > base else np.zeros_like(logc)
        img[visited] = np.rint(_heat(np.clip(t, 0.0, 1.0))).astype(np.uint8)
    return img


_OFFSETS = {m[0]: (m[2], m[3]) for m in MAPS}  # map id -> its top-left tile on the global map


def global_position(map_id: int, x: int, y: int) -> tuple[int, int] | None:
    """(gx, gy) of tile (x, y) of map ``map_id`` on the global Kanto map; None off the map or for a map with no place."""
    off = _OFFSETS.get(int(map_id))
    if off is None or off[0] < 0 or off[1] < 0:
        return None
    gx, gy = off[0] + int(x), off[1] + int(y)
    return (gx, gy) if 0 <= gx < KANTO_WIDTH and 0 <= gy < KANTO_HEIGHT else None


def map_window(picture: np.ndarray, center: tuple[int, int], width: int, height: int) -> np.ndarray:
    """The (height, width, 3) part of a global map picture centred on tile ``center``; past the edges it is
    UNVISITED."""
    out = np.empty((height, width, 3), np.uint8)
    out[:] = UNVISITED
    x0, y0 = center[0] - width // 2, center[1] - height // 2
    sx0, sy0 = max(x0, 0), max(y0, 0)
    sx1, sy1 = min(x0 + width, picture.shape[1]), min(y0 + height, picture.shape[0])
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = picture[sy0:sy1, sx0:sx1]
    return out


def render_explored_map(counts: np.ndarray, path: str | os.PathLike, scale: int = 1) -> pathlib.Path:
    """Write the heat-coloured PNG of `counts` to `path` atomically (readers never see half a file)."""
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    img = explored_map_rgb(counts)
    if scale > 1:
        img = img.repeat(scale, axis=0).repeat(scale, axis=1)
    return write_png(img, path)


# -- the map assembled from what the emulators showed (csrc/canvas.h paints it) --------------------------------

MAX_PICTURE_PIXELS = 24_000_000
"""A picture of more map than this (at CANVAS_CELL pixels a step) is drawn at half that, then a quarter, ...: all
of Kanto at 16 pixels a step would be 7,104 x 6,976 pixels."""
SHADES = np.array([(232, 240, 220), (160, 180, 150), (84, 104, 84), (24, 32, 28)], np.uint8)
"""Game Boy shades 0 (lightest) .. 3 as RGB, a green-grey DMG look."""
TRAIL = (80, 200, 255)
MARGIN = 4


def _label_font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow built without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def kanto_picture(canvas: np.ndarray, painted: np.ndarray, counts: np.ndarray,
                  trails: np.ndarray | None = None, labels: bool = True, legend: bool = True) -> np.ndarray:
    """kanto_picture_geometry's picture alone."""
    return kanto_picture_geometry(canvas, painted, counts, trails, labels, legend)[0]


def envs_picture(envs) -> np.ndarray:
    """RGB picture of Kanto as a VecEnv's envs saw it (its canvas), visits and trails over it; needs
    paint_interval > 0."""
    if envs.canvas is None:
        raise ValueError("the painted map is off: set paint_interval > 0 (EnvConfig)")
    return kanto_picture(envs.canvas, envs.painted, envs.global_visit_counts(), envs.trails)


def kanto_picture_geometry(canvas: np.ndarray, painted: np.ndarray, counts: np.ndarray,
                           trails: np.ndarray | None = None, labels: bool = True,
                           legend: bool = True) -> tuple[np.ndarray, tuple[int, int, int]]:
    """The Kanto map as the agents saw it, as an RGB array: each painted step shows the last view of it (DMG
    shades), unseen steps are dark; visits tint the steps by heat (one visit purple .. most visited yellow-white);
    ``trails`` ((envs, samples, 2) global steps, -1 for none, oldest first) are drawn as lines with the newest
    position a dot; map names label the maps seen; a legend below. Cropped to the painted and visited steps with
    a margin of MARGIN steps; each step at the screen's own CANVAS_CELL x CANVAS_CELL pixels (fewer past
    MAX_PICTURE_PIXELS), scaled up 2x when small. Returns the picture and (x0, y0, pixels per step): global step
    (gx, gy) is centred at pixel ((gx - x0 + 0.5) * px, (gy - y0 + 0.5) * px)."""
    from PIL import Image, ImageDraw

    seen = (painted > 0) | (counts > 0)
    ys, xs = np.nonzero(seen)
    if len(xs) == 0:
        x0, y0, x1, y1 = 0, 0, 16, 16
    else:
        x0, x1 = max(xs.min() - MARGIN, 0), min(xs.max() + MARGIN + 1, KANTO_WIDTH)
        y0, y1 = max(ys.min() - MARGIN, 0), min(ys.max() + MARGIN + 1, KANTO_HEIGHT)
    stride = 1  # canvas pixels per picture pixel
    while (x1 - x0) * (y1 - y0) * (CANVAS_CELL // stride) ** 2 > MAX_PICTURE_PIXELS and CANVAS_CELL // stride > 1:
        stride *= 2
    cell = CANVAS_CELL // stride
    img = SHADES[canvas[y0 * CANVAS_CELL:y1 * CANVAS_CELL:stride, x0 * CANVAS_CELL:x1 * CANVAS_CELL:stride]]
    unseen = np.repeat(np.repeat(painted[y0:y1, x0:x1] == 0, cell, 0), cell, 1)
    img[unseen] = UNVISITED
    # The heat is a light tint over the terrain (70% terrain), in integers: a big picture stays a few bytes a pixel.
    heat = explored_map_rgb(counts)[y0:y1, x0:x1].astype(np.uint16)
    visited = np.repeat(np.repeat(counts[y0:y1, x0:x1] > 0, cell, 0), cell, 1)
    tint = np.repeat(np.repeat(heat, cell, 0), cell, 1)
    img[visited] = ((7 * img[visited].astype(np.uint16) + 3 * tint[visited] + 5) // 10).astype(np.uint8)
    scale = 2 if (x1 - x0) * cell < 480 else 1
    pic = Image.fromarray(img)
    if scale > 1:
        pic = pic.resize((pic.width * scale, pic.height * scale), Image.NEAREST)
    draw = ImageDraw.Draw(pic)
    px = cell * scale

    def to_px(gx, gy):
        return ((gx - x0) * px + px // 2, (gy - y0) * px + px // 2)

    if trails is not None:
        for env in np.asarray(trails):
            steps = [(int(x), int(y)) for x, y in env if x >= 0]
            for a, b in zip(steps, steps[1:]):  # one sample a step: a jump (a warp, a swarm move) breaks the line
                if abs(a[0] - b[0]) + abs(a[1] - b[1]) <= 1:
                    draw.line((to_px(*a), to_px(*b)), fill=TRAIL, width=max(1, px // 6))
            if steps:
                cx, cy = to_px(*steps[-1])
                r = max(2, px // 4)
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 255, 255), outline=(0, 0, 0))
    if labels:
        font = _label_font(11)
        for _id, name, gx, gy, w, h in MAPS:
            if gx < 0 or gy < 0:
                continue
            inside = seen[max(gy, 0):gy + h, max(gx, 0):gx + w]
            if not inside.any() or gx + w <= x0 or gx >= x1 or gy + h <= y0 or gy >= y1:
                continue
            iy, ix = np.nonzero(inside)
            k = int(np.argmin((iy - iy.mean()) ** 2 + (ix - ix.mean()) ** 2))  # on a seen step: a map seen in two
            cx, cy = to_px(gx + int(ix[k]), gy + int(iy[k]))                  # far parts is labelled on one
            text = name.replace("_", " ").title()
            box = draw.textbbox((cx, cy), text, font=font, anchor="mm")
            draw.rectangle((box[0] - 2, box[1] - 1, box[2] + 2, box[3] + 1), fill=(0, 0, 0))
            draw.text((cx, cy), text, fill=(255, 255, 255), font=font, anchor="mm")
    geometry = (int(x0), int(y0), int(px))
    if not legend:
        return np.asarray(pic), geometry
    return _with_legend(pic), geometry


def _with_legend(pic) -> np.ndarray:
    from PIL import Image, ImageDraw

    font = _label_font(12)
    height = 22
    out = Image.new("RGB", (max(pic.width, 420), pic.height + height), UNVISITED)
    out.paste(pic, (0, 0))
    draw = ImageDraw.Draw(out)
    y = pic.height + 4
    x = 4
    for i in range(60):  # the visit heat scale
        colour = tuple(int(c) for c in _heat(np.array([i / 59.0]))[0])
        draw.line((x + i, y, x + i, y + 12), fill=colour)
    draw.text((x + 64, y + 6), "visits: 1 .. most", fill=(230, 230, 230), font=font, anchor="lm")
    x = 180
    draw.line((x, y + 6, x + 20, y + 6), fill=TRAIL, width=3)
    draw.text((x + 24, y + 6), "recent trails, dot = now", fill=(230, 230, 230), font=font, anchor="lm")
    x = 350
    draw.rectangle((x, y, x + 12, y + 12), fill=UNVISITED, outline=(90, 90, 110))
    draw.text((x + 16, y + 6), "unseen", fill=(230, 230, 230), font=font, anchor="lm")
    return np.asarray(out)


def render_kanto_map(canvas: np.ndarray, painted: np.ndarray, counts: np.ndarray, path: str | os.PathLike,
                     trails: np.ndarray | None = None) -> pathlib.Path:
    """Write kanto_picture(...) as a PNG to ``path`` atomically."""
    return write_png(kanto_picture(canvas, painted, counts, trails), path)


def png_bytes(rgb: np.ndarray, compress_level: int = 6) -> bytes:
    """An RGB array as PNG bytes (every picture the package writes or serves goes through here)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def write_png(rgb: np.ndarray, path: str | os.PathLike) -> pathlib.Path:
    """An RGB array as a PNG at ``path``, atomically (a reader never sees half a file)."""
    return write_atomic(path, png_bytes(rgb))


def screens_to_rgb(packed: np.ndarray, scale: int = 2) -> np.ndarray:
    """Packed observation screens (..., OBS_H, OBS_PACKED_W), 4 pixels a byte, high bits first) as RGB frames
    (..., OBS_H * scale, OBS_W * scale, 3) in the DMG shades; scale 2 gives the Game Boy's 144 x 160."""
    p = np.asarray(packed, np.uint8)
    shades = np.stack([(p >> 6) & 3, (p >> 4) & 3, (p >> 2) & 3, p & 3], axis=-1).reshape(*p.shape[:-1], -1)
    rgb = SHADES[shades]
    return rgb.repeat(scale, axis=-3).repeat(scale, axis=-2) if scale > 1 else rgb
