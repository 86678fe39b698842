// The auto-HM menu macro as a small state machine over RAM reads.
//
// hm.h decides *whether* to use Cut or Surf; this decides *which press comes next* while Red's own menus
// are driven: START -> POKEMON -> the mon -> the move, then B until every menu is closed. Each call of
// hm_next() reads WRAM and returns one command for the step driver (step.h) to execute; the driver
// reports nothing back but the RAM it leaves, so the same RAM sequence always gives the same commands.
// pokerl_fast/env/reference.py has the same machine in Python, and the tests replay RAM sequences
// through both.
//
// Timing, in frames (an env step's press timing):
//   - every press is held HM_HOLD frames within HM_TAP frames;
//   - a press that opens a menu is repeated (HM_OPEN_TRIES at most) while the menu has not answered within
//     HM_OPEN_WAIT frames: a press can land while the game is still drawing and is lost. "Answered" means
//     wMaxMenuItem changed from HM_NO_MENU, written just before the first press, so a stale value of an
//     earlier menu cannot pass for the new one; then HM_SETTLE frames let it finish drawing;
//   - cursor moves are checked on wCurrentMenuItem and retried up to HM_NAV_TRIES presses;
//   - closing: HM_CLOSE_TAPS presses of B, then single frames until the game is ready for input, at most
//     HM_CLOSE_LIMIT frames counted from the first B.
#pragma once
#include <cstdint>

#include "emu.h"
#include "hm.h"
#include "ram.h"

namespace pokerl {

constexpr int HM_HOLD = 8, HM_TAP = 24;
constexpr int HM_OPEN_TRIES = 3, HM_OPEN_WAIT = 80, HM_SETTLE = 16;
constexpr int HM_NAV_TRIES = 12, HM_CLOSE_TAPS = 4, HM_CLOSE_LIMIT = 600;
constexpr uint8_t HM_NO_MENU = 0xFF;

enum HmOp : int {
    HM_OP_DONE = 0,        // the macro has finished (outcome says how)
    HM_OP_TAP = 1,         // press (dmask, smask) for HM_HOLD frames, HM_TAP frames in all
    HM_OP_WAIT = 2,        // tick `frames` frames without input
    HM_OP_CLEAR_MENU = 3,  // write HM_NO_MENU to wMaxMenuItem (no frame)
};

enum HmOutcome : int { HM_RUNNING = 0, HM_USED = 1, HM_ABORTED = 2, HM_NOTHING = 3 };

// Stages, in order. OPEN_* open a menu, NAV_* move its cursor.
enum HmStage : int {
    HM_OPEN_START, HM_NAV_START, HM_OPEN_PARTY, HM_NAV_PARTY, HM_OPEN_FIELD, HM_NAV_FIELD,
    HM_USE, HM_CLOSE, HM_CLOSE_WAIT, HM_FINISHED,
};

struct HmCommand {
    int op = HM_OP_DONE;
    uint8_t dmask = 0, smask = 0;
    int frames = 0;  // frames the command ticks
};

struct HmMacro {
    HmPlan plan;
    int stage = HM_FINISHED;
    int opening = 0;    // OPEN_*: 0 clear wMaxMenuItem next, 1 press next, 2 waiting for the menu, 3 settled
    int attempt = 0;    // OPEN_*: presses sent
    int waited = 0;     // OPEN_*: frames waited since the last press
    int target = 0;     // NAV_*: the cursor row to reach
    int taps = 0;       // NAV_*: presses sent; CLOSE: B presses sent
    int close_frames = 0;
    int outcome = HM_NOTHING;
};

inline HmCommand hm_tap(uint8_t dmask, uint8_t smask) { return HmCommand{HM_OP_TAP, dmask, smask, HM_TAP}; }
inline HmCommand hm_wait(int frames) { return HmCommand{HM_OP_WAIT, 0, 0, frames}; }

// Row of `field_move` in the open field-move submenu, or -1 if that submenu is not open or lacks it.
// The submenu lists the mon's field moves (wFieldMoves, zero-terminated, at most 4), then STATS, SWITCH,
// CANCEL: its wMaxMenuItem is the number of field moves + 2.
inline int field_menu_index(const uint8_t* wram, int field_move) {
    int count = 0, found = -1;
    for (int k = 0; k < 4; ++k) {
        const uint8_t m = wram_at(wram, red::FIELD_MOVES + k);
        if (m == 0) break;
        if (m == field_move && found < 0) found = k;
        ++count;
    }
    return wram_at(wram, red::MAX_MENU_ITEM) == count + 2 ? found : -1;
}

// A macro for the RAM after a step with d-pad mask `dmask`: finished with HM_NOTHING when nothing applies.
inline HmMacro hm_start(const uint8_t* wram, uint8_t dmask) {
    HmMacro m;
    m.plan = plan_hm(wram, dmask);
    if (m.plan.kind != HM_NONE) {
        m.stage = HM_OPEN_START;
        m.outcome = HM_RUNNING;
    }
    return m;
}

// The stage after a successful OPEN_*: the cursor target it sets, or -1 when the menu is not the one expected.
inline int hm_opened_target(const HmMacro& m, const uint8_t* wram) {
    const int max_item = wram_at(wram, red::MAX_MENU_ITEM);
    switch (m.stage) {
        case HM_OPEN_START:  // Red's start menu keeps its item count in wMaxMenuItem: 7 with the Pokedex, 6 without
            return max_item == red::START_MENU_ITEMS_WITH_POKEDEX - 1 + m.plan.start_menu_item
                       ? m.plan.start_menu_item : -1;
        case HM_OPEN_PARTY:
            return max_item == wram_at(wram, red::PARTY_COUNT) - 1 ? m.plan.party_index : -1;
        case HM_OPEN_FIELD:
            return field_menu_index(wram, m.plan.field_move);
        default:
            return -1;
    }
}

inline void hm_abort(HmMacro& m) {
    m.outcome = HM_ABORTED;
    m.stage = HM_CLOSE;
    m.taps = 0;
}

// The next command, given the RAM the previous one left. Call until it returns HM_OP_DONE.
inline HmCommand hm_next(HmMacro& m, const uint8_t* wram) {
    for (;;) {
        switch (m.stage) {
            case HM_OPEN_START:
            case HM_OPEN_PARTY:
            case HM_OPEN_FIELD: {
                if (m.opening == 0) {  // forget the last menu's wMaxMenuItem
                    m.opening = 1;
                    return HmCommand{HM_OP_CLEAR_MENU, 0, 0, 0};
                }
                const uint8_t button = m.stage == HM_OPEN_START ? BTN_START : BTN_A;
                if (m.opening == 1) {
                    m.opening = 2;
                    m.attempt = 1;
                    m.waited = 0;
                    return hm_tap(0, button);
                }
                if (m.opening == 2) {
                    if (wram_at(wram, red::MAX_MENU_ITEM) != HM_NO_MENU) {
                        m.opening = 3;
                        return hm_wait(HM_SETTLE);
                    }
                    if (m.waited < HM_OPEN_WAIT) {
                        ++m.waited;
                        return hm_wait(1);
                    }
                    if (m.attempt < HM_OPEN_TRIES) {
                        ++m.attempt;
                        m.waited = 0;
                        return hm_tap(0, button);
                    }
                }
                const int target = hm_opened_target(m, wram);
                if (target < 0) {
                    hm_abort(m);
                    break;
                }
                m.target = target;
                m.taps = 0;
                m.stage += 1;  // the NAV_* that follows
                break;
            }
            case HM_NAV_START:
            case HM_NAV_PARTY:
            case HM_NAV_FIELD: {
                const int cur = wram_at(wram, red::CURRENT_MENU_ITEM);
                if (cur == m.target) {
                    m.stage += 1;  // the next OPEN_*, or USE
                    m.opening = m.attempt = m.waited = 0;
                    break;
                }
                if (m.taps < HM_NAV_TRIES) {
                    ++m.taps;
                    return hm_tap(cur < m.target ? PAD_DOWN : PAD_UP, 0);
                }
                hm_abort(m);
                break;
            }
            case HM_USE:
                m.outcome = HM_USED;
                m.stage = HM_CLOSE;
                m.taps = 0;
                return hm_tap(0, BTN_A);
            case HM_CLOSE:
                if (m.taps < HM_CLOSE_TAPS) {
                    ++m.taps;
                    return hm_tap(0, BTN_B);
                }
                m.stage = HM_CLOSE_WAIT;
                m.close_frames = HM_CLOSE_TAPS * HM_TAP;
                break;
            case HM_CLOSE_WAIT:
                if (!ready_for_input(wram) && m.close_frames < HM_CLOSE_LIMIT) {
                    ++m.close_frames;
                    return hm_wait(1);
                }
                m.stage = HM_FINISHED;
                break;
            default:
                return HmCommand{};
        }
    }
}

}  // namespace pokerl
