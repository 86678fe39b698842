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

from pokerl_fast.game.constants import KANTO_HEIGHT, KANTO_WIDTH, MAPS
from pokerl_fast.fileio import write_atomic

__all__ = ["explored_map_rgb", "render_explored_map", "global_position", "map_window", "UNVISITED", "OUTLINE"]

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
    from PIL import Image

    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    img = explored_map_rgb(counts)
    if scale > 1:
        img = img.repeat(scale, axis=0).repeat(scale, axis=1)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    path = write_atomic(path, buf.getvalue())
    return path
