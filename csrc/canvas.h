// A map of Kanto assembled from what the emulators showed: one env's background layer (the screen at its own
// resolution, 16x16 pixels per map step, four DMG shades, drawn from VRAM without the window or the sprites:
// render.h) painted onto a global canvas at the player's global position.
//
// Where the screen lies on the map follows from the player's sprite (OAM entry 0): its top at screen pixel
// y = 16k (our worlds) or 16k - 4 (Red draws the player 4 pixels above its block) means block row k, x = 16j
// block column j; screen block (c, r) is then global step (gx - j + c, gy - k + r). A view is painted only
// when it is a still picture of the map: not in battle, no walk in progress (wWalkCounter 0: Red scrolls the
// background during a walk), the LCD and the background on, no window on screen (a text box or a menu: Red
// keeps the window enabled in LCDC and hides it below the screen with WY = 0x90), the sprite on a block. Sprites
// are not drawn (the background alone), so every block on screen, the player's own too, overwrites what an older
// view left.
#pragma once

#include <cstdint>

#include "explore.h"
#include "ram.h"
#include "red_constants.h"
#include "render.h"

namespace pokerl {

constexpr int CANVAS_CELL = 16;  // canvas pixels per map step: the screen's own 16x16
constexpr int CANVAS_W = red::KANTO_WIDTH * CANVAS_CELL, CANVAS_H = red::KANTO_HEIGHT * CANVAS_CELL;
constexpr int VIEW_COLS = red::SCREEN_W / CANVAS_CELL, VIEW_ROWS = red::SCREEN_H / CANVAS_CELL;  // 10 x 9 steps

// True when the window layer covers part of the screen (LCDC bits 5 and 0 with WY, WX on screen).
inline bool window_on_screen(const uint8_t* regs) {
    const uint8_t lcdc = regs[REG_LCDC];
    return (lcdc & 0x20) && (lcdc & 0x01) && regs[REG_WY] < red::SCREEN_H && regs[REG_WX] < red::SCREEN_W + 7;
}

// Paints the background layer of `vram` under `regs` (NUM_LCD_REGS bytes) into `canvas` (CANVAS_H x CANVAS_W
// shades) and marks the steps painted in `painted` (KANTO_HEIGHT x KANTO_WIDTH). oam: OAM bytes (entry 0 = the
// player: y + 16, x + 8); s: the decoded RAM; clip: the global steps [x0, y0, x1, y1) that may be painted, the
// player's map (what the screen shows past the map's edge belongs to other maps: Red's border blocks, or whatever
// lies beyond a small room). Returns the number of steps painted (0 when the view is not a still picture of the
// map or the player has no global place).
inline int paint_view(const uint8_t* vram, const uint8_t* oam, const uint8_t* regs, const RamState& s,
                      const int clip[4], uint8_t* canvas, uint8_t* painted) {
    const int g = global_tile(s.map, s.x, s.y);
    if (g < 0 || s.in_battle || s.walk_counter) return 0;
    const uint8_t lcdc = regs[REG_LCDC];
    if (!(lcdc & 0x80) || !(lcdc & 0x01) || window_on_screen(regs)) return 0;  // LCD or map off, a menu over it
    const int top = int(oam[0]) - 16, sx = int(oam[1]) - 8;
    if (sx < 0 || top < -4 || (sx & 15) || ((top & 15) != 0 && (top & 15) != 12)) return 0;  // off a block
    const int sy = top + 4;
    const int pc = sx >> 4, pr = sy >> 4;
    const int gx = g % red::KANTO_WIDTH, gy = g / red::KANTO_WIDTH;
    uint8_t bg[red::SCREEN_H * red::SCREEN_W];
    bool drawn = false;
    int n = 0;
    for (int r = 0; r < VIEW_ROWS; ++r) {
        const int ty = gy - pr + r;
        if (ty < clip[1] || ty >= clip[3] || ty < 0 || ty >= red::KANTO_HEIGHT) continue;
        for (int c = 0; c < VIEW_COLS; ++c) {
            const int tx = gx - pc + c;
            if (tx < clip[0] || tx >= clip[2] || tx < 0 || tx >= red::KANTO_WIDTH) continue;
            if (!drawn) {
                render_background(vram, regs, bg);
                drawn = true;
            }
            for (int py = 0; py < CANVAS_CELL; ++py) {
                const uint8_t* src = bg + (r * CANVAS_CELL + py) * red::SCREEN_W + c * CANVAS_CELL;
                uint8_t* dst = canvas + size_t(ty * CANVAS_CELL + py) * CANVAS_W + tx * CANVAS_CELL;
                for (int k = 0; k < CANVAS_CELL; ++k) dst[k] = src[k];
            }
            painted[ty * red::KANTO_WIDTH + tx] = 1;
            ++n;
        }
    }
    return n;
}

}  // namespace pokerl
