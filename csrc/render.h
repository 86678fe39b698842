// A native DMG picture of the screen at half resolution, straight from VRAM, OAM and the LCD registers (and the
// background layer alone at full resolution, for the map painted from what the envs saw: canvas.h).
//
// The policy sees a 72x80 picture made of the top-left pixel of every 2x2 block of the 160x144 screen.
// PyBoy's renderer draws all 23,040 pixels with RGBA colours (about 80 us a frame here); this draws the
// 5,760 pixels the observation keeps, as DMG shades, in a few microseconds, and the emulator then ticks
// every frame with its renderer off.
//
// What it draws is the frame the current registers describe: read after a step (the end of VBlank, when
// the game has already written the next frame's scroll, window and OAM), it is the picture the LCD will
// show next. Games that change registers mid-frame (raster effects) are drawn with the end-of-frame
// values; Red does not rely on them outside transitions.
#pragma once

#include <cstdint>
#include <cstring>

#include "red_constants.h"

namespace pokerl {

constexpr int RENDER_H = red::OBS_H, RENDER_W = red::OBS_W;  // half of SCREEN_H x SCREEN_W

// LCD register snapshot, in this order (the bridge fills it after every step).
enum LcdReg : int { REG_LCDC, REG_SCY, REG_SCX, REG_WY, REG_WX, REG_BGP, REG_OBP0, REG_OBP1, NUM_LCD_REGS };

// Colour index (0..3) of pixel (px, py) of an 8x8 tile whose 16 bytes start at `tile`.
inline int tile_pixel(const uint8_t* tile, int px, int py) {
    const uint8_t lo = tile[2 * py], hi = tile[2 * py + 1];
    const int bit = 7 - px;
    return ((lo >> bit) & 1) | (((hi >> bit) & 1) << 1);
}

inline int palette_shade(uint8_t palette, int color) { return (palette >> (2 * color)) & 3; }

// Address (offset into the 8 KiB VRAM) of background/window tile `index` under LCDC bit 4.
inline int bg_tile_offset(uint8_t lcdc, uint8_t index) {
    return (lcdc & 0x10) ? index * 16 : 0x1000 + int8_t(index) * 16;
}

// Colour index (0..3) of background pixel (x, y) of the 256x256 background map `map` (before the palette).
inline int bg_color_at(const uint8_t* vram, const uint8_t* map, uint8_t lcdc, int x, int y) {
    const uint8_t index = map[(y >> 3) * 32 + (x >> 3)];
    return tile_pixel(vram + bg_tile_offset(lcdc, index), x & 7, y & 7);
}

// Writes the background layer alone at the screen's full resolution, 144x160 shades after BGP, into `out`:
// no window, no objects (the map as it lies under the sprites). LCD off or the background off: all 0.
inline void render_background(const uint8_t* vram, const uint8_t* regs, uint8_t* out) {
    const uint8_t lcdc = regs[REG_LCDC];
    if (!(lcdc & 0x80) || !(lcdc & 0x01)) {
        std::memset(out, 0, red::SCREEN_H * red::SCREEN_W);
        return;
    }
    const int scy = regs[REG_SCY], scx = regs[REG_SCX];
    const uint8_t bgp = regs[REG_BGP];
    const uint8_t* bg_map = vram + ((lcdc & 0x08) ? 0x1C00 : 0x1800);
    for (int ly = 0; ly < red::SCREEN_H; ++ly) {
        const int y = (ly + scy) & 255;
        for (int lx = 0; lx < red::SCREEN_W; ++lx)
            out[ly * red::SCREEN_W + lx] = uint8_t(palette_shade(bgp, bg_color_at(vram, bg_map, lcdc, (lx + scx) & 255, y)));
    }
}

// Writes 72x80 shades (0 = lightest .. 3 = darkest, after the palettes) into `out` (row-major).
// vram: 8 KiB at 0x8000; oam: 160 bytes at 0xFE00; regs: NUM_LCD_REGS bytes.
inline void render_half(const uint8_t* vram, const uint8_t* oam, const uint8_t* regs, uint8_t* out) {
    const uint8_t lcdc = regs[REG_LCDC];
    if (!(lcdc & 0x80)) {  // LCD off: a blank (lightest) screen
        std::memset(out, 0, RENDER_H * RENDER_W);
        return;
    }
    const int scy = regs[REG_SCY], scx = regs[REG_SCX], wy = regs[REG_WY], wx = int(regs[REG_WX]) - 7;
    const uint8_t bgp = regs[REG_BGP];
    const bool bg_on = lcdc & 0x01, obj_on = lcdc & 0x02, tall = lcdc & 0x04, win_on = lcdc & 0x20;
    const uint8_t* bg_map = vram + ((lcdc & 0x08) ? 0x1C00 : 0x1800);
    const uint8_t* win_map = vram + ((lcdc & 0x40) ? 0x1C00 : 0x1800);
    const int obj_h = tall ? 16 : 8;

    // Background colour index per pixel (needed for sprite priority), then shades.
    uint8_t bg_color[RENDER_W];
    for (int row = 0; row < RENDER_H; ++row) {
        const int ly = 2 * row;
        const bool win_line = win_on && ly >= wy && wx < red::SCREEN_W;
        for (int col = 0; col < RENDER_W; ++col) {
            const int lx = 2 * col;
            int color = 0;
            if (bg_on) {
                if (win_line && lx >= wx) {
                    const int wx_px = lx - wx, wy_px = ly - wy;
                    const uint8_t index = win_map[(wy_px >> 3) * 32 + (wx_px >> 3)];
                    color = tile_pixel(vram + bg_tile_offset(lcdc, index), wx_px & 7, wy_px & 7);
                } else {
                    color = bg_color_at(vram, bg_map, lcdc, (lx + scx) & 255, (ly + scy) & 255);
                }
            }
            bg_color[col] = uint8_t(color);
            out[row * RENDER_W + col] = uint8_t(palette_shade(bgp, color));
        }
        if (!obj_on) continue;
        // Up to 10 objects per line, chosen in OAM order; among overlapping ones the smallest X wins,
        // then the lowest OAM index (DMG rules).
        int picked[10], n = 0;
        for (int i = 0; i < 40 && n < 10; ++i) {
            const int oy = int(oam[4 * i]) - 16;
            if (ly >= oy && ly < oy + obj_h) picked[n++] = i;
        }
        for (int col = 0; col < RENDER_W; ++col) {
            const int lx = 2 * col;
            int best = -1, best_x = 1 << 30, best_color = 0;
            for (int k = 0; k < n; ++k) {
                const uint8_t* o = oam + 4 * picked[k];
                const int ox = int(o[1]) - 8;
                if (lx < ox || lx >= ox + 8) continue;
                const uint8_t flags = o[3];
                int py = ly - (int(o[0]) - 16);
                if (flags & 0x40) py = obj_h - 1 - py;
                uint8_t tile = o[2];
                if (tall) tile &= 0xFE;
                int px = lx - ox;
                if (flags & 0x20) px = 7 - px;
                const int color = tile_pixel(vram + tile * 16 + (py >> 3) * 16, px, py & 7);
                if (color == 0) continue;  // transparent: a later object may still show
                if (ox < best_x) {
                    best = picked[k];
                    best_x = ox;
                    best_color = color;
                }
            }
            if (best < 0) continue;
            const uint8_t flags = oam[4 * best + 3];
            if ((flags & 0x80) && bg_color[col] != 0) continue;  // behind background colours 1-3
            const uint8_t pal = (flags & 0x10) ? regs[REG_OBP1] : regs[REG_OBP0];
            out[row * RENDER_W + col] = uint8_t(palette_shade(pal, best_color));
        }
    }
}

}  // namespace pokerl
