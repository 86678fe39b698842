"""The explored-map PNG: right size, visited tiles coloured by count, unvisited dark, written atomically."""

import numpy as np
import pytest
from PIL import Image

from pokerl_fast.game.constants import KANTO_HEIGHT, KANTO_WIDTH, MAP_IDS, MAPS
from pokerl_fast.watch.kanto_map import OUTLINE, UNVISITED, explored_map_rgb, render_explored_map


def _counts():
    counts = np.zeros((KANTO_HEIGHT, KANTO_WIDTH), np.uint32)
    _, _, gx, gy, w, h = next(m for m in MAPS if m[0] == MAP_IDS["PALLET_TOWN"])
    counts[gy + 5, gx + 5] = 1
    counts[gy + 6, gx + 6] = 10
    counts[gy + 7, gx + 7] = 1000
    return counts, (gx, gy)


def test_png_has_kanto_size_and_coloured_visits(tmp_path):
    counts, (gx, gy) = _counts()
    path = render_explored_map(counts, tmp_path / "runs" / "explored.png")
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.size == (KANTO_WIDTH, KANTO_HEIGHT)
        img = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(img, explored_map_rgb(counts))
    once, ten, most = img[gy + 5, gx + 5], img[gy + 6, gx + 6], img[gy + 7, gx + 7]
    for px in (once, ten, most):
        assert tuple(px) not in (UNVISITED, OUTLINE)
    # Brighter with more visits (log scale): the most visited tile is white.
    assert once.astype(int).sum() < ten.astype(int).sum() < most.astype(int).sum()
    assert tuple(most) == (255, 255, 255)
    # Everything else is background or outline.
    visited = counts > 0
    others = img[~visited]
    is_bg = np.all(others == UNVISITED, axis=1) | np.all(others == OUTLINE, axis=1)
    assert is_bg.all()
    assert list(tmp_path.joinpath("runs").iterdir()) == [path], "temporary file left behind"


def test_outlines_follow_map_rectangles():
    img = explored_map_rgb(np.zeros((KANTO_HEIGHT, KANTO_WIDTH), np.uint32))
    _, _, gx, gy, w, h = next(m for m in MAPS if m[0] == MAP_IDS["PALLET_TOWN"])
    for x, y in ((gx, gy), (gx + w - 1, gy + h - 1), (gx + w // 2, gy)):
        assert tuple(img[y, x]) == OUTLINE
    assert tuple(img[gy + h // 2, gx + w // 2]) == UNVISITED


def test_log_scale_and_scale_option(tmp_path):
    counts, (gx, gy) = _counts()
    counts[:] = 0
    counts[gy + 5, gx + 5] = 1
    counts[gy + 5, gx + 6] = 10
    counts[gy + 5, gx + 7] = 100
    img = explored_map_rgb(counts).astype(int)
    # On a log scale 10 of 100 visits sits ~44% up the heat scale (red channel past the second
    # anchor's 200); a linear scale would put it at 9% (red ~123).
    assert img[gy + 5, gx + 6, 0] >= 200
    assert tuple(img[gy + 5, gx + 5]) == (80, 20, 120)  # one visit: the first anchor
    path = render_explored_map(counts, tmp_path / "big.png", scale=2)
    with Image.open(path) as im:
        assert im.size == (2 * KANTO_WIDTH, 2 * KANTO_HEIGHT)
        big = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(big[::2, ::2], img.astype(np.uint8))


def test_bad_input_says_what_to_pass(tmp_path):
    with pytest.raises(ValueError, match="expected .*KANTO_HEIGHT"):
        render_explored_map(np.zeros((10, 10), np.uint32), tmp_path / "x.png")
    with pytest.raises(ValueError, match="integer"):
        render_explored_map(np.zeros((KANTO_HEIGHT, KANTO_WIDTH), np.float32), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
