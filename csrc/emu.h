// The one door between the core and an emulator: raw memory pointers, the joypad latch, the LCD
// registers, and a frame tick behind a function pointer. The Cython bridge (pokerl_fast/_native/_bridge.pyx)
// fills one EmuPorts per PyBoy instance; nothing here knows Python or PyBoy.
//
// Every pointer is stable for the emulator's life: ticks and load_state write into the same buffers.
#pragma once
#include <cstdint>

#include "render.h"

namespace pokerl {

// Joypad latch bits (active low: a clear bit is a pressed button), as the Game Boy's P1 register reads them.
enum Pad : uint8_t { PAD_RIGHT = 0x1, PAD_LEFT = 0x2, PAD_UP = 0x4, PAD_DOWN = 0x8 };
enum Btn : uint8_t { BTN_A = 0x1, BTN_B = 0x2, BTN_SELECT = 0x4, BTN_START = 0x8 };
constexpr uint8_t INTR_JOYPAD = 0x10;  // IF bit raised when a button goes down

// Button name -> (directional mask, standard mask), the masks the step presses.
struct ButtonMask {
    const char* name;
    uint8_t directional, standard;
};
constexpr int NUM_BUTTONS = 8;
constexpr ButtonMask BUTTON_MASKS[NUM_BUTTONS] = {
    {"right", PAD_RIGHT, 0}, {"left", PAD_LEFT, 0}, {"up", PAD_UP, 0},         {"down", PAD_DOWN, 0},
    {"a", 0, BTN_A},         {"b", 0, BTN_B},       {"select", 0, BTN_SELECT}, {"start", 0, BTN_START},
};

struct EmuPorts {
    void* ctx = nullptr;
    // Emulates one frame. render: the emulator also draws it into screen_rgba (else its renderer stays off).
    void (*tick)(void* ctx, int render) = nullptr;
    uint8_t* wram = nullptr;                 // 8 KiB, 0xC000..0xDFFF
    uint8_t* hram = nullptr;                 // 0x7F bytes, 0xFF80..0xFFFE
    const uint8_t* vram = nullptr;           // 8 KiB, bank 0, 0x8000..0x9FFF
    const uint8_t* oam = nullptr;            // 0xA0 bytes, 0xFE00..
    const uint8_t* lcd[NUM_LCD_REGS] = {};   // LCDC, SCY, SCX, WY, WX, BGP, OBP0, OBP1 (render.h order)
    uint8_t* joy_directional = nullptr;      // the joypad latch, d-pad half
    uint8_t* joy_standard = nullptr;         // the joypad latch, button half
    uint8_t* interrupt_flags = nullptr;      // IF
    const uint8_t* screen_rgba = nullptr;    // 144 x 160 x 4, written by rendered ticks
};

inline bool ports_complete(const EmuPorts& p) {
    bool ok = p.tick && p.wram && p.hram && p.vram && p.oam && p.joy_directional && p.joy_standard &&
              p.interrupt_flags && p.screen_rgba;
    for (int k = 0; k < NUM_LCD_REGS; ++k) ok = ok && p.lcd[k];
    return ok;
}

// Presses buttons (clears their latch bits); a button that goes down raises the joypad interrupt.
inline void press(EmuPorts& p, uint8_t dmask, uint8_t smask) {
    const uint8_t d = *p.joy_directional, s = *p.joy_standard;
    *p.joy_directional = uint8_t(d & ~dmask);
    *p.joy_standard = uint8_t(s & ~smask);
    if ((d & dmask) || (s & smask)) *p.interrupt_flags |= INTR_JOYPAD;
}

inline void release(EmuPorts& p, uint8_t dmask, uint8_t smask) {
    *p.joy_directional |= dmask;
    *p.joy_standard |= smask;
}

}  // namespace pokerl
