// One env's emulation step: press the agent's button, tick frames (a fixed count, or ending early once the
// game waits for input), run the scripted helpers (auto-dialog, auto-HM, infinite money, auto-flash), then
// draw the observation picture. The emulator is reached only through EmuPorts (emu.h).
//
// Every decision here is a pure function of its arguments and RAM, with a Python twin in
// pokerl_fast/env/reference.py: frame_control (what each frame does), keep_helpers and keep_strength (RAM
// the helpers pin after a step), plan_hm (hm.h) and the menu macro (hm_macro.h).
#pragma once
#include <cstdint>

#include "emu.h"
#include "hm_macro.h"
#include "obs.h"
#include "ram.h"
#include "render.h"

namespace pokerl {

// Opt-in scripted helpers, as bit flags; see EnvConfig for what each changes.
enum Helper : uint32_t {
    HELPER_AUTO_DIALOG = 1,     // tap A on alternate frames while wJoyIgnore is set (after the agent's press)
    HELPER_INFINITE_MONEY = 2,  // keep wPlayerMoney at 999999 after every step
    HELPER_AUTO_FLASH = 4,      // keep wMapPalOffset at 0 after every step: dark caves are lit
    HELPER_AUTO_HM = 8,         // use Cut/Surf through the menus when the agent pushes into a tree/water; Strength on
};

struct StepConfig {
    int hold = 8;          // frames the agent's press is held
    int min_frames = 0;    // adaptive: the least frames of a step
    int max_frames = 24;   // frames of a step (the most, when adaptive)
    bool adaptive = false;
    uint32_t helpers = 0;
};

enum DialogTap : int { DIALOG_NONE = 0, DIALOG_PRESS = 1, DIALOG_RELEASE = 2 };

// What frame f of a step does before it is ticked. `tapping`: auto-dialog holds A from the previous frame.
struct FrameControl {
    bool release = false;   // release the agent's button (its hold is over)
    int dialog = DIALOG_NONE;
    bool last = false;      // the step's last frame (rendered, when PyBoy draws the observation)
};

inline FrameControl frame_control(int f, const StepConfig& c, bool tapping, const uint8_t* wram) {
    FrameControl fc;
    fc.release = f == c.hold;
    if ((c.helpers & HELPER_AUTO_DIALOG) && f >= c.hold) {
        if (tapping)
            fc.dialog = DIALOG_RELEASE;
        else if (wram_at(wram, red::JOY_IGNORE) != 0)
            fc.dialog = DIALOG_PRESS;
    }
    fc.last = f == c.max_frames - 1 ||
              (c.adaptive && f >= c.min_frames - 1 && f > c.hold && ready_for_input(wram));
    return fc;
}

// RAM the helpers pin after every step: money at 999999 (BCD), the map palette offset at 0 (lit caves).
// Auto-HM keeps Strength active (Red's BIT_STRENGTH_ACTIVE) while the party may use it.
inline void keep_strength(uint8_t* wram) {
    if (strength_ready(wram)) wram[red::STATUS_FLAGS1 - WRAM_BASE] |= uint8_t(1u << red::BIT_STRENGTH_ACTIVE);
}

inline void keep_helpers(uint8_t* wram, uint32_t helpers) {
    if (helpers & HELPER_INFINITE_MONEY)
        for (int k = 0; k < 3; ++k) wram[red::PLAYER_MONEY - WRAM_BASE + k] = 0x99;
    if (helpers & HELPER_AUTO_FLASH) wram[red::MAP_PAL_OFFSET - WRAM_BASE] = 0;
}

// One emulator as the core drives it: its ports, the native picture, and what the helpers did.
struct Driver {
    EmuPorts emu;
    bool native_screen = true;            // draw the observation from VRAM (PyBoy's renderer stays off)
    uint8_t regs[NUM_LCD_REGS] = {};      // the LCD registers the picture was drawn from
    uint8_t shades[RENDER_H * RENDER_W] = {};
    uint64_t frames = 0;                  // frames ticked since construction
    uint64_t hm_used = 0;                 // auto-HM: menus driven to the move's A press
    uint64_t hm_aborted = 0;              // auto-HM: a menu did not appear or a cursor did not reach its row

    void tick(bool render) {
        emu.tick(emu.ctx, render ? 1 : 0);
        ++frames;
    }

    // Snapshot the LCD registers (the map painter reads them with either picture) and, with the native picture,
    // draw the half-resolution picture from VRAM and OAM.
    void draw() {
        for (int k = 0; k < NUM_LCD_REGS; ++k) regs[k] = *emu.lcd[k];
        if (native_screen) render_half(emu.vram, emu.oam, regs, shades);
    }

    // The observation's source picture: 72x80 shades (native) or PyBoy's 144x160 RGBA screen.
    const uint8_t* picture() const { return native_screen ? shades : emu.screen_rgba; }

    // Press, tick c.max_frames frames (or until ready once c.min_frames passed), then the helpers.
    // Returns the frames ticked, the helpers' included.
    int run(uint8_t dmask, uint8_t smask, const StepConfig& c) {
        int f = 0;
        bool tapping = false;
        press(emu, dmask, smask);
        while (f < c.max_frames) {
            const FrameControl fc = frame_control(f, c, tapping, emu.wram);
            if (fc.release) release(emu, dmask, smask);
            if (fc.dialog == DIALOG_RELEASE) {
                release(emu, 0, BTN_A);
                tapping = false;
            } else if (fc.dialog == DIALOG_PRESS) {
                press(emu, 0, BTN_A);
                tapping = true;
            }
            tick(fc.last && !native_screen);
            ++f;
            if (fc.last) break;
        }
        if (f <= c.hold) release(emu, dmask, smask);
        if (tapping) release(emu, 0, BTN_A);
        if (c.helpers & HELPER_AUTO_HM) f += auto_hm(dmask);
        keep_helpers(emu.wram, c.helpers);
        draw();  // with PyBoy's picture too: the registers were zeros there, so the map painter painted nothing
        return f;
    }

    // A menu press: HM_HOLD frames down within HM_TAP frames, no helper, no render.
    int tap(uint8_t dmask, uint8_t smask) {
        press(emu, dmask, smask);
        for (int f = 0; f < HM_TAP; ++f) {
            if (f == HM_HOLD) release(emu, dmask, smask);
            tick(false);
        }
        return HM_TAP;
    }

    int wait(int n) {
        for (int k = 0; k < n; ++k) tick(false);
        return n;
    }

    // Executes one macro command; returns the frames it ticked.
    int execute(const HmCommand& cmd) {
        switch (cmd.op) {
            case HM_OP_TAP: return tap(cmd.dmask, cmd.smask);
            case HM_OP_WAIT: return wait(cmd.frames);
            case HM_OP_CLEAR_MENU: emu.wram[red::MAX_MENU_ITEM - WRAM_BASE] = HM_NO_MENU; return 0;
            default: return 0;
        }
    }

    // After a step: if the agent pushed into a tree (water) the party can Cut (Surf), use the move.
    int auto_hm(uint8_t dmask) {
        keep_strength(emu.wram);
        HmMacro m = hm_start(emu.wram, dmask);
        if (m.outcome == HM_NOTHING) return 0;
        int f = 0;
        for (HmCommand cmd = hm_next(m, emu.wram); cmd.op != HM_OP_DONE; cmd = hm_next(m, emu.wram))
            f += execute(cmd);
        if (m.outcome == HM_USED)
            ++hm_used;
        else
            ++hm_aborted;
        if (!native_screen) {  // PyBoy's screen shows the last rendered frame: make it this one
            tick(true);
            ++f;
        }
        return f;
    }

    // Tick `n` frames without input; the last one rendered when asked (PyBoy's screen). Redraws the native picture.
    void tick_frames(int n, bool render) {
        for (int k = 0; k < n; ++k) tick(render && k == n - 1 && !native_screen);
        draw();
    }

    // Tick `n` frames without input and leave the observation current (after load_state it is stale):
    // the native picture is drawn from VRAM at once; PyBoy's renderer needs one more, rendered, frame.
    void idle(int n) { tick_frames(native_screen ? n : n + 1, true); }
};

}  // namespace pokerl
