# distutils: language = c++
"""Zero-copy bridge to PyBoy 2.8.1: memory pointers, a GIL-free frame loop, fast save states.

PyBoy ships its .pxd files, so we cimport its Motherboard and drive it directly:
- WRAM/HRAM/VRAM/OAM/screen are plain C buffers whose addresses never change (ticks and
  load_state write into them in place), so native kernels read them through raw pointers.
- ``run_frames`` presses a button by writing the joypad latch, ticks frames with the GIL
  released, and can end a step early when the game is ready for input (checked on RAM
  every frame, no Python call).
- Save/load state goes through a C byte buffer instead of BytesIO (PyBoy's generic path
  wraps every byte in a Python call).

Everything here is private; pokerl_fast.env is the public face.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t, uintptr_t
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy
from libcpp.vector cimport vector

import numpy as np

from pyboy.pyboy cimport PyBoy
from pyboy.core.mb cimport Motherboard
from pyboy.utils cimport IntIOInterface

cdef extern from "ram.h" namespace "pokerl" nogil:
    bint ready_for_input(const uint8_t* wram)

cdef extern from "render.h" namespace "pokerl" nogil:
    const int RENDER_H, RENDER_W, NUM_LCD_REGS
    void render_half(const uint8_t* vram, const uint8_t* oam, const uint8_t* regs, uint8_t* out)

cdef extern from "red_constants.h" namespace "pokerl::red" nogil:
    const uint16_t JOY_IGNORE
    const uint16_t PLAYER_MONEY
    const uint16_t MAP_PAL_OFFSET
    const uint16_t CURRENT_MENU_ITEM
    const uint16_t MAX_MENU_ITEM
    const uint16_t FIELD_MOVES
    const uint16_t PARTY_COUNT
    const uint16_t STATUS_FLAGS1
    const int BIT_STRENGTH_ACTIVE
    const int START_MENU_ITEMS_WITH_POKEDEX

cdef extern from "hm.h" namespace "pokerl" nogil:
    cdef enum HmKind:
        HM_NONE, HM_CUT, HM_SURF
    cdef cppclass HmPlan:
        int kind, party_index, field_move, start_menu_item
    HmPlan plan_hm(const uint8_t* wram, uint8_t dmask)
    bint strength_ready(const uint8_t* wram)

import pyboy as _pyboy_module

PYBOY_VERSION = "2.8.1"
if getattr(_pyboy_module, "__version__", PYBOY_VERSION) != PYBOY_VERSION:
    raise ImportError(
        f"pokerl_fast needs pyboy=={PYBOY_VERSION} (found {_pyboy_module.__version__}); "
        f"run: pip install pyboy=={PYBOY_VERSION} and rebuild pokerl_fast"
    )

WRAM_SIZE = 0x2000        # 0xC000-0xDFFF on DMG hardware
SCREEN_SHAPE = (144, 160, 4)

# Joypad latch bits (PyBoy's Interaction: active low, P10..P13).
# index: (directional mask, standard mask)
BUTTONS = {
    "right": (0x1, 0x0), "left": (0x2, 0x0), "up": (0x4, 0x0), "down": (0x8, 0x0),
    "a": (0x0, 0x1), "b": (0x0, 0x2), "select": (0x0, 0x4), "start": (0x0, 0x8),
}
DEF INTR_JOYPAD = 0x10

# Opt-in scripted helpers (bit flags for Emulator/Batch runs); see EnvConfig for what each changes.
cdef enum:
    AUTO_DIALOG = 1     # tap A on alternate frames while wJoyIgnore is set (after the agent's press)
    INFINITE_MONEY = 2  # keep wPlayerMoney at 999999 after every step
    AUTO_FLASH = 4      # keep wMapPalOffset at 0 after every step: dark caves are lit
    AUTO_HM = 8         # use Cut/Surf through the menus when the agent pushes into a tree/water; keep Strength on
HELPER_AUTO_DIALOG = AUTO_DIALOG
HELPER_INFINITE_MONEY = INFINITE_MONEY
HELPER_AUTO_FLASH = AUTO_FLASH
HELPER_AUTO_HM = AUTO_HM

# The auto-HM menu macro: every press is held MENU_HOLD frames within MENU_TAP frames (an env step's
# timing). A press that opens a menu is repeated (MENU_OPEN_TRIES times at most) while the menu has not
# answered within MENU_OPEN_WAIT frames (a press can land while the game is still drawing and is lost);
# after it answers, MENU_SETTLE frames let it finish drawing (Red sets wMaxMenuItem before drawing the
# party menu). Cursor moves are checked on wCurrentMenuItem and retried up to MENU_NAV_TRIES presses.
DEF MENU_HOLD = 8
DEF MENU_TAP = 24
DEF MENU_OPEN_TRIES = 3
DEF MENU_OPEN_WAIT = 80
DEF MENU_SETTLE = 16
DEF MENU_NAV_TRIES = 12
DEF MENU_CLOSE_TAPS = 4
DEF READY_LIMIT = 600
DEF PAD_DOWN = 0x8
DEF PAD_UP = 0x4
DEF BTN_A = 0x1
DEF BTN_B = 0x2
DEF BTN_START = 0x8
DEF NO_MENU = 0xFF


def hm_plan(const uint8_t[::1] wram, uint8_t dmask):
    """The auto-HM decision for one WRAM image (8192 bytes) after a step with d-pad mask ``dmask``:
    (kind 0 none/1 cut/2 surf, party index, field-move index, start-menu index of POKEMON)."""
    if wram.shape[0] != WRAM_SIZE:
        raise ValueError(f"wram must have {WRAM_SIZE} bytes (got {wram.shape[0]})")
    cdef HmPlan plan = plan_hm(&wram[0], dmask)
    return plan.kind, plan.party_index, plan.field_move, plan.start_menu_item


def hm_strength_ready(const uint8_t[::1] wram):
    """Whether the auto-HM helper keeps Strength on for this WRAM image (a mon knows it, Rainbow badge)."""
    if wram.shape[0] != WRAM_SIZE:
        raise ValueError(f"wram must have {WRAM_SIZE} bytes (got {wram.shape[0]})")
    return strength_ready(&wram[0])


cdef class StateBuffer(IntIOInterface):
    """A growable C byte buffer that PyBoy's save_state/load_state write into and read from."""
    cdef uint8_t* data
    cdef int64_t size, capacity, pos

    def __cinit__(self, *args):
        self.capacity = 1 << 16
        self.data = <uint8_t*> malloc(self.capacity)
        if self.data == NULL:
            raise MemoryError()
        self.size = 0
        self.pos = 0

    def __init__(self, *args):
        pass

    def __dealloc__(self):
        free(self.data)

    cdef int _reserve(self, int64_t n) except -1:
        cdef uint8_t* grown
        if n <= self.capacity:
            return 0
        while self.capacity < n:
            self.capacity *= 2
        grown = <uint8_t*> realloc(self.data, self.capacity)
        if grown == NULL:
            raise MemoryError()
        self.data = grown
        return 0

    cpdef int64_t write(self, uint8_t byte) except -1:
        if self.pos >= self.capacity:
            self._reserve(self.pos + 1)
        self.data[self.pos] = byte
        self.pos += 1
        if self.pos > self.size:
            self.size = self.pos
        return 1

    cpdef uint8_t read(self) except? -1:
        if self.pos >= self.size:
            raise EOFError("save state is truncated")
        self.pos += 1
        return self.data[self.pos - 1]

    cpdef int seek(self, int64_t pos) except -1:
        self.pos = pos
        return 0

    cpdef int flush(self) except -1:
        return 0

    cpdef int64_t tell(self) except -1:
        return self.pos

    cdef void clear(self):
        self.size = 0
        self.pos = 0

    cdef int load_bytes(self, bytes state) except -1:
        cdef int64_t n = PyBytes_GET_SIZE(state)
        self._reserve(n)
        memcpy(self.data, PyBytes_AS_STRING(state), n)
        self.size = n
        self.pos = 0
        return 0

    cdef bytes to_bytes(self):
        return PyBytes_FromStringAndSize(<char*> self.data, self.size)


cdef class Emulator:
    """One PyBoy instance seen from native code.

    Construct it from a running ``pyboy.PyBoy`` (DMG mode, sound off). The object keeps the
    PyBoy alive and exposes stable buffer addresses for the native kernels.
    """
    cdef readonly object pyboy
    cdef PyBoy _pb
    cdef Motherboard mb
    cdef uint8_t* wram
    cdef uint32_t* screen
    cdef StateBuffer buf
    cdef readonly uint64_t frames
    cdef readonly uint64_t hm_used      # auto-HM: menus driven to the move's A press
    cdef readonly uint64_t hm_aborted   # auto-HM: a menu did not appear or the cursor did not reach its entry
    cdef readonly bint native_screen
    cdef uint8_t regs[8]
    cdef uint8_t shades[72 * 80]

    def __cinit__(self, pyboy, bint native_screen=False):
        if not isinstance(pyboy, PyBoy):
            raise TypeError("Emulator needs a pyboy.PyBoy instance")
        self.pyboy = pyboy
        self._pb = <PyBoy> pyboy
        self.mb = self._pb.mb
        if self.mb.cgb:
            raise ValueError("the emulator runs in CGB mode; construct PyBoy with cgb=False")
        if self.mb.ram.internal_ram0.shape[0] < WRAM_SIZE:
            raise ValueError("unexpected WRAM size; is this pyboy 2.8.1?")
        self.wram = &self.mb.ram.internal_ram0[0]
        self.screen = &self._pb.screen.raw_buffer[0, 0]
        self.buf = StateBuffer()
        self.frames = 0
        self.hm_used = 0
        self.hm_aborted = 0
        self.native_screen = native_screen
        self._draw()

    @property
    def wram_address(self):
        """Address of 8 KiB WRAM (Game Boy 0xC000-0xDFFF); stable for the emulator's life."""
        return <uintptr_t> self.wram

    @property
    def screen_address(self):
        """Address of the 144x160 RGBA screen buffer (4 bytes per pixel); stable."""
        return <uintptr_t> self.screen

    @property
    def shades_address(self):
        """Address of the 72x80 shade picture drawn natively after each run (native_screen mode); stable."""
        return <uintptr_t> self.shades

    def shades_view(self):
        """A zero-copy (72, 80) view of the native half-resolution picture (shades 0..3)."""
        return <uint8_t[:72, :80]> &self.shades[0]

    def lcd_registers(self):
        """The LCD register snapshot the native picture was drawn from (LCDC, SCY, SCX, WY, WX, BGP, OBP0, OBP1)."""
        return bytes(self.regs[:8])

    cdef void _draw(self) noexcept nogil:
        """Snapshot the LCD registers and draw the half-resolution picture from VRAM and OAM."""
        self.regs[0] = self.mb.lcd._LCDC.value
        self.regs[1] = self.mb.lcd.SCY
        self.regs[2] = self.mb.lcd.SCX
        self.regs[3] = self.mb.lcd.WY
        self.regs[4] = self.mb.lcd.WX
        self.regs[5] = self.mb.lcd.BGP.value
        self.regs[6] = self.mb.lcd.OBP0.value
        self.regs[7] = self.mb.lcd.OBP1.value
        render_half(&self.mb.lcd.VRAM0[0], &self.mb.lcd.OAM[0], self.regs, self.shades)

    def draw(self):
        """Draw the native picture now (done automatically after each run in native_screen mode)."""
        self._draw()

    def wram_view(self):
        """A zero-copy uint8 memoryview of WRAM."""
        return <uint8_t[:WRAM_SIZE]> self.wram

    def hram_view(self):
        """A zero-copy memoryview of HRAM (0xFF80-0xFFFE)."""
        return <uint8_t[:0x7F]> &self.mb.ram.internal_ram1[0]

    def vram_view(self):
        """A zero-copy memoryview of VRAM bank 0 (0x8000-0x9FFF)."""
        return <uint8_t[:0x2000]> &self.mb.lcd.VRAM0[0]

    def oam_view(self):
        """A zero-copy memoryview of OAM (0xFE00-0xFE9F)."""
        return <uint8_t[:0xA0]> &self.mb.lcd.OAM[0]

    def screen_view(self):
        """A zero-copy (144, 160, 4) RGBA view of the screen buffer."""
        return <uint8_t[:144, :160, :4]> (<uint8_t*> self.screen)

    cdef inline void _tick_frame(self, bint render) noexcept nogil:
        # What PyBoy._tick does for one frame, minus window events, hooks and gameshark,
        # which this project never uses.
        self.mb.lcd.frame_done = False
        self.mb.lcd.disable_renderer = not render
        self.mb.sound.disable_sampling = True
        self.mb.tick()
        self._pb.frame_count += 1
        self.frames += 1

    cdef inline void _press(self, uint8_t dmask, uint8_t smask) noexcept nogil:
        cdef uint8_t before_d = self.mb.interaction.directional
        cdef uint8_t before_s = self.mb.interaction.standard
        self.mb.interaction.directional = before_d & ~dmask
        self.mb.interaction.standard = before_s & ~smask
        if (before_d & dmask) or (before_s & smask):
            self.mb.cpu.set_interruptflag(INTR_JOYPAD)

    cdef inline void _release(self, uint8_t dmask, uint8_t smask) noexcept nogil:
        self.mb.interaction.directional = self.mb.interaction.directional | dmask
        self.mb.interaction.standard = self.mb.interaction.standard | smask

    cdef int _run(self, uint8_t dmask, uint8_t smask, int hold, int min_frames,
                  int max_frames, bint adaptive, uint32_t helpers) noexcept nogil:
        """Press, tick until max_frames (or until ready once min_frames passed), render the last frame.

        Returns the number of frames ticked. In adaptive mode readiness is checked on RAM before
        each frame; once it holds (and at least min_frames - 1 frames ran) one last frame is
        ticked with rendering, so the observed screen is always fresh.
        """
        cdef int f = 0
        cdef bint last
        cdef bint tapping = False
        self._press(dmask, smask)
        while f < max_frames:
            if f == hold:
                self._release(dmask, smask)
            if helpers & AUTO_DIALOG and f >= hold:
                if tapping:
                    self._release(0, 0x1)
                    tapping = False
                elif self.wram[JOY_IGNORE - 0xC000] != 0:
                    self._press(0, 0x1)
                    tapping = True
            last = (f == max_frames - 1) or (
                adaptive and f >= min_frames - 1 and f > hold and ready_for_input(self.wram))
            self._tick_frame(last and not self.native_screen)
            f += 1
            if last:
                break
        if f <= hold:
            self._release(dmask, smask)
        if tapping:
            self._release(0, 0x1)
        if helpers & AUTO_HM:
            f += self._auto_hm(dmask)
        if helpers & INFINITE_MONEY:
            self.wram[PLAYER_MONEY - 0xC000] = 0x99
            self.wram[PLAYER_MONEY - 0xC000 + 1] = 0x99
            self.wram[PLAYER_MONEY - 0xC000 + 2] = 0x99
        if helpers & AUTO_FLASH:
            self.wram[MAP_PAL_OFFSET - 0xC000] = 0
        if self.native_screen:
            self._draw()
        return f

    cdef inline int _tap(self, uint8_t dmask, uint8_t smask) noexcept nogil:
        return self._run(dmask, smask, MENU_HOLD, 0, MENU_TAP, False, 0)

    cdef int _tap_until_answered(self, uint8_t smask) noexcept nogil:
        """Press a button that opens a menu until the game writes wMaxMenuItem (or the tries run out).

        wMaxMenuItem is first set to a value no menu uses, so a stale value from an earlier menu cannot
        pass for the new one, and a repeated press is only sent while no menu has answered."""
        cdef int f = 0, attempt, waited
        self.wram[MAX_MENU_ITEM - 0xC000] = NO_MENU
        for attempt in range(MENU_OPEN_TRIES):
            f += self._tap(0, smask)
            waited = 0
            while self.wram[MAX_MENU_ITEM - 0xC000] == NO_MENU and waited < MENU_OPEN_WAIT:
                self._tick_frame(False)
                waited += 1
            f += waited
            if self.wram[MAX_MENU_ITEM - 0xC000] != NO_MENU:
                self._tick_frames(MENU_SETTLE)
                return f + MENU_SETTLE
        return f

    cdef int _tap_until_menu(self, uint8_t smask, int max_item, bint* opened) noexcept nogil:
        """Press a button that opens a menu whose wMaxMenuItem is ``max_item``; ``opened``: it did."""
        cdef int f = self._tap_until_answered(smask)
        opened[0] = self.wram[MAX_MENU_ITEM - 0xC000] == max_item
        return f

    cdef int _field_menu_index(self, int field_move) noexcept nogil:
        """Row of ``field_move`` in the open field-move submenu, or -1 if it is not open or not listed.

        The submenu lists the mon's field moves (wFieldMoves, zero-terminated, at most 4), then STATS,
        SWITCH, CANCEL: its wMaxMenuItem is the number of field moves + 2."""
        cdef int k, count = 0, found = -1
        for k in range(4):
            if self.wram[FIELD_MOVES - 0xC000 + k] == 0:
                break
            if self.wram[FIELD_MOVES - 0xC000 + k] == field_move and found < 0:
                found = k
            count += 1
        if self.wram[MAX_MENU_ITEM - 0xC000] != count + 2:
            return -1
        return found

    cdef int _tap_until_field_menu(self, int field_move, int* index) noexcept nogil:
        """Press A on the chosen mon; wait for the field-move submenu; ``index`` = the move's row or -1."""
        cdef int f = self._tap_until_answered(BTN_A)
        index[0] = self._field_menu_index(field_move)
        return f

    cdef int _menu_to(self, int item, bint* reached) noexcept nogil:
        """Move the open menu's cursor to ``item`` with DOWN/UP, reading wCurrentMenuItem after each press."""
        cdef int f = 0, k, cur
        for k in range(MENU_NAV_TRIES):
            cur = self.wram[CURRENT_MENU_ITEM - 0xC000]
            if cur == item:
                break
            f += self._tap(PAD_DOWN if cur < item else PAD_UP, 0)
        reached[0] = self.wram[CURRENT_MENU_ITEM - 0xC000] == item
        return f

    cdef inline void _tick_frames(self, int n) noexcept nogil:
        cdef int k
        for k in range(n):
            self._tick_frame(False)

    cdef int _close_menus(self) noexcept nogil:
        """B closes any text box, submenu, party menu and start menu that is left; then wait for input."""
        cdef int f = 0, k
        for k in range(MENU_CLOSE_TAPS):
            f += self._tap(0, BTN_B)
        while not ready_for_input(self.wram) and f < READY_LIMIT:
            self._tick_frame(False)
            f += 1
        if not self.native_screen:  # PyBoy's screen shows the last rendered frame: make it this one
            self._tick_frame(True)
            f += 1
        return f

    cdef int _auto_hm(self, uint8_t dmask) noexcept nogil:
        """After a step: keep Strength on when the party may use it; if the agent pushed into a tree
        (water) and the party can Cut (Surf), use it through Red's menus. Returns frames ticked."""
        cdef int f = 0, target = -1
        cdef bint ok = False
        cdef HmPlan plan
        if strength_ready(self.wram):
            self.wram[STATUS_FLAGS1 - 0xC000] |= (1 << BIT_STRENGTH_ACTIVE)
        plan = plan_hm(self.wram, dmask)
        if plan.kind == HM_NONE:
            return 0
        # Red's start menu keeps its item count in wMaxMenuItem: 7 with the Pokedex, 6 without
        f += self._tap_until_menu(BTN_START, START_MENU_ITEMS_WITH_POKEDEX - 1 + plan.start_menu_item, &ok)
        if ok:
            f += self._menu_to(plan.start_menu_item, &ok)
        if ok:
            f += self._tap_until_menu(BTN_A, self.wram[PARTY_COUNT - 0xC000] - 1, &ok)
        if ok:
            f += self._menu_to(plan.party_index, &ok)
        if ok:
            f += self._tap_until_field_menu(plan.field_move, &target)
            ok = target >= 0
        if ok:
            f += self._menu_to(target, &ok)
        if ok:
            f += self._tap(0, BTN_A)
            self.hm_used += 1
        else:
            self.hm_aborted += 1
        return f + self._close_menus()

    def run_frames(self, str button, int hold=8, int frames=24, int min_frames=0, bint adaptive=False,
                   uint32_t helpers=0):
        """Press ``button`` (or None/"" for no press) for ``hold`` frames and tick ``frames`` frames."""
        cdef uint8_t d = 0, s = 0
        cdef int n
        if button:
            d, s = BUTTONS[button]
        with nogil:
            n = self._run(d, s, hold, min_frames, frames, adaptive, helpers)
        return n

    def tick(self, int frames, bint render=False):
        """Tick without pressing anything; renders the last frame if asked."""
        cdef int f
        with nogil:
            for f in range(frames):
                self._tick_frame(render and f == frames - 1 and not self.native_screen)
            if self.native_screen:
                self._draw()

    def idle(self, int frames):
        """Tick ``frames`` frames without input and leave the screen current (load_state leaves it
        stale): the native picture is drawn from VRAM at once; PyBoy's renderer needs one more frame."""
        self.tick(frames if self.native_screen else frames + 1, True)

    def save_state(self):
        """The full emulator state as bytes (PyBoy's own format)."""
        self.buf.clear()
        self.mb.save_state(self.buf)
        return self.buf.to_bytes()

    def load_state(self, bytes state):
        """Restore a state made by save_state (or by pyboy.save_state)."""
        self.buf.load_bytes(state)
        self.mb.load_state(self.buf)


from cpython.ref cimport PyObject
from cython.parallel cimport prange


cdef int _run_borrowed(Emulator e, uint8_t d, uint8_t s, int hold, int min_frames, int max_frames,
                       bint adaptive, uint32_t helpers) noexcept nogil:
    # Arguments of extension type are borrowed references: no reference counting, so no GIL.
    return e._run(d, s, hold, min_frames, max_frames, adaptive, helpers)


cdef class Batch:
    """A fixed list of Emulators stepped together: one call per vector step.

    ``run`` steps every env inside one GIL-free OpenMP loop: the Emulator objects are kept alive
    by ``self.emulators`` and reached through borrowed pointers. OpenMP's pool hands work to its
    threads in microseconds (a Python thread pool took 50-100 us per step here and scaled 1.6x on
    2 cores where this scales 1.9-2x).
    """
    cdef list emulators
    cdef readonly int n
    cdef uint8_t[:, ::1] masks
    cdef vector[PyObject*] ptrs

    def __init__(self, emulators, masks):
        self.emulators = list(emulators)
        self.n = len(self.emulators)
        for e in self.emulators:
            if not isinstance(e, Emulator):
                raise TypeError("Batch holds Emulator objects")
            self.ptrs.push_back(<PyObject*> e)
        self.masks = np.ascontiguousarray(masks, dtype=np.uint8)
        if self.masks.shape[1] != 2:
            raise ValueError("masks must have shape (num_actions, 2)")

    def run(self, const int64_t[::1] actions, int32_t[::1] frames_out, int num_threads,
                     int hold, int min_frames, int max_frames, bint adaptive, uint32_t helpers=0):
        """Step all envs, spread over num_threads OpenMP threads (static schedule), without the GIL."""
        cdef int i
        cdef int64_t a
        cdef int na = self.masks.shape[0]
        if actions.shape[0] < self.n or frames_out.shape[0] < self.n:
            raise IndexError(f"actions and frames_out need {self.n} entries")
        for i in range(self.n):
            a = actions[i]
            if a < 0 or a >= na:
                raise ValueError(f"action {a} for env {i} is outside 0..{na - 1}")
        if num_threads <= 1:  # no OpenMP at all: also safe in a process forked after OpenMP was used
            with nogil:
                for i in range(self.n):
                    frames_out[i] = _run_borrowed(<Emulator> self.ptrs[i], self.masks[actions[i], 0],
                                                  self.masks[actions[i], 1], hold, min_frames, max_frames,
                                                  adaptive, helpers)
            return
        for i in prange(self.n, nogil=True, num_threads=num_threads, schedule="dynamic", chunksize=1):
            frames_out[i] = _run_borrowed(<Emulator> self.ptrs[i], self.masks[actions[i], 0],
                                          self.masks[actions[i], 1], hold, min_frames, max_frames,
                                          adaptive, helpers)
