"""The benchmark world's near-optimal route, painted: ``python -m pokerl_fast.watch.route_map route.png``.

Plays the scripted route (pokerl_fast/game/testworld/route.py: from the bedroom to Brock's badge, ~73k frames,
about 10 s) and paints what its screens showed with the trainer's own drawing: every 8 frames the background on
screen goes onto a Kanto canvas (csrc/canvas.h), the player's global steps are counted and kept as the walk, and
the picture is explored_map.png's (watch/kanto_map.py). The README's picture of the map is made this way.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from pokerl_fast._native import _core
from pokerl_fast.env.emulator import Emulator
from pokerl_fast.env.vector import map_rect
from pokerl_fast.game import constants as C
from pokerl_fast.game.testworld import route
from pokerl_fast.watch.kanto_map import global_position, kanto_picture, write_png


class Painter:
    """A PyBoy seen through its ticks: every ``every`` frames the background on screen is painted onto a Kanto
    canvas (paint_view, as the trainer paints) and the player's global step is counted and kept."""

    def __init__(self, pyboy, every: int = 8):
        self._pyboy, self._every, self._due = pyboy, every, 0
        self._emu = Emulator(pyboy)  # zero-copy views of WRAM, VRAM, OAM and the LCD registers
        self.canvas = np.zeros(_core.CANVAS_SHAPE, np.uint8)
        self.painted = np.zeros((C.KANTO_HEIGHT, C.KANTO_WIDTH), np.uint8)
        self.counts = np.zeros((C.KANTO_HEIGHT, C.KANTO_WIDTH), np.uint32)
        self.walk: list[tuple[int, int]] = []

    def __getattr__(self, name):  # everything else is the PyBoy's
        return getattr(self._pyboy, name)

    def tick(self, frames: int = 1, render: bool = True) -> bool:
        out = True
        for _ in range(frames):
            out = self._pyboy.tick(1, render)
            self._due += 1
            if self._due >= self._every:
                self._due = 0
                self._paint()
        return out

    def _paint(self) -> None:
        emu = self._emu
        emu.draw()  # takes the LCD registers now
        wram = np.asarray(emu.wram_view())
        cur = int(wram[C.CUR_MAP - C.WRAM_BASE])
        _core.paint_view(emu.vram_view(), emu.oam_view(), emu.lcd_registers(), wram, map_rect(cur), self.canvas,
                         self.painted)
        g = global_position(cur, wram[C.X_COORD - C.WRAM_BASE], wram[C.Y_COORD - C.WRAM_BASE])
        if g is not None and (not self.walk or self.walk[-1] != g):
            self.counts[g[1], g[0]] += 1
            self.walk.append(g)

    def picture(self) -> np.ndarray:
        walk = np.asarray(self.walk, np.int32).reshape(1, -1, 2)
        return kanto_picture(self.canvas, self.painted, self.counts, walk)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("png", help="where to write the picture")
    args = parser.parse_args(argv)
    made: list[Painter] = []

    def painter(pyboy) -> Painter:
        made.append(Painter(pyboy))
        return made[0]

    for name, frames in route.play_on_benchworld(painter):
        print(f"{name}: frame {frames:,}")
    write_png(made[0].picture(), args.png)
    print(f"map: {args.png} ({int(made[0].painted.sum())} steps painted)")
    return 0

if __name__ == "__main__":
    sys.exit(main())
