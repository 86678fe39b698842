# distutils: language = c++
"""The only code that cimports PyBoy: one emulator's ports for the C++ core, and fast save states.

PyBoy 2.8.1 ships its .pxd files, so this module reaches its Motherboard directly and fills one
``EmuPorts`` (csrc/emu.h) per emulator: stable pointers to WRAM, HRAM, VRAM, OAM, the LCD registers,
the joypad latch and the interrupt flags, and a ``nogil`` function that ticks one frame. The core
(``_core``, pybind11) does everything else. Save/load state goes through a C byte buffer instead of
BytesIO (PyBoy's generic path wraps every byte in a Python call).
"""

from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.ref cimport PyObject
from libc.stdint cimport int64_t, uint8_t, uintptr_t
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy

from pyboy.pyboy cimport PyBoy
from pyboy.core.mb cimport Motherboard
from pyboy.utils cimport IntIOInterface

cdef extern from "red_constants.h" namespace "pokerl::red":
    const int WRAM_SIZE "pokerl::red::WRAM_SIZE"
    const int HRAM_SIZE "pokerl::red::HRAM_SIZE"
    const int VRAM_SIZE "pokerl::red::VRAM_SIZE"
    const int OAM_SIZE "pokerl::red::OAM_SIZE"
    const int SCREEN_H "pokerl::red::SCREEN_H"
    const int SCREEN_W "pokerl::red::SCREEN_W"
    const int SCREEN_CHANNELS "pokerl::red::SCREEN_CHANNELS"

cdef extern from "emu.h" namespace "pokerl" nogil:
    const int NUM_LCD_REGS
    cdef cppclass EmuPorts:
        void* ctx
        void (*tick)(void* ctx, int render) noexcept nogil
        uint8_t* wram
        uint8_t* hram
        const uint8_t* vram
        const uint8_t* oam
        const uint8_t* lcd[8]
        uint8_t* joy_directional
        uint8_t* joy_standard
        uint8_t* interrupt_flags
        const uint8_t* screen_rgba

import pyboy as _pyboy_module

PYBOY_VERSION = "2.8.1"
if getattr(_pyboy_module, "__version__", PYBOY_VERSION) != PYBOY_VERSION:
    raise ImportError(
        f"pokerl_fast needs pyboy=={PYBOY_VERSION} (found {_pyboy_module.__version__}); "
        f"run: pip install pyboy=={PYBOY_VERSION} and rebuild pokerl_fast"
    )


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


cdef inline void _tick_frame(Bridge b, int render) noexcept nogil:
    # What PyBoy._tick does for one frame, minus window events, hooks and gameshark, which this
    # project never uses. The argument is a borrowed reference: no reference counting, so no GIL.
    b.mb.lcd.frame_done = False
    b.mb.lcd.disable_renderer = not render
    b.mb.sound.disable_sampling = True
    b.mb.tick()
    b._pb.frame_count += 1


cdef void _tick(void* ctx, int render) noexcept nogil:
    _tick_frame(<Bridge> <PyObject*> ctx, render)


cdef class Bridge:
    """One PyBoy instance (DMG mode, sound off) seen from native code.

    ``ports_address`` is the address of this emulator's ``EmuPorts`` (csrc/emu.h), valid while the
    Bridge lives; the core's ``Driver`` keeps the Bridge alive.
    """
    cdef readonly object pyboy
    cdef PyBoy _pb
    cdef Motherboard mb
    cdef StateBuffer buf
    cdef EmuPorts ports

    def __cinit__(self, pyboy):
        if not isinstance(pyboy, PyBoy):
            raise TypeError("Bridge needs a pyboy.PyBoy instance")
        self.pyboy = pyboy
        self._pb = <PyBoy> pyboy
        self.mb = self._pb.mb
        if self.mb.cgb:
            raise ValueError("the emulator runs in CGB mode; construct PyBoy with cgb=False")
        if self.mb.ram.internal_ram0.shape[0] < WRAM_SIZE:
            raise ValueError("unexpected WRAM size; is this pyboy 2.8.1?")
        self.buf = StateBuffer()
        # Every pointer below stays valid for the emulator's life: ticks and load_state write in place
        # (the register objects are set, never replaced).
        self.ports.ctx = <void*> self
        self.ports.tick = _tick
        self.ports.wram = &self.mb.ram.internal_ram0[0]
        self.ports.hram = &self.mb.ram.internal_ram1[0]
        self.ports.vram = &self.mb.lcd.VRAM0[0]
        self.ports.oam = &self.mb.lcd.OAM[0]
        self.ports.lcd[0] = &self.mb.lcd._LCDC.value
        self.ports.lcd[1] = &self.mb.lcd.SCY
        self.ports.lcd[2] = &self.mb.lcd.SCX
        self.ports.lcd[3] = &self.mb.lcd.WY
        self.ports.lcd[4] = &self.mb.lcd.WX
        self.ports.lcd[5] = &self.mb.lcd.BGP.value
        self.ports.lcd[6] = &self.mb.lcd.OBP0.value
        self.ports.lcd[7] = &self.mb.lcd.OBP1.value
        self.ports.joy_directional = &self.mb.interaction.directional
        self.ports.joy_standard = &self.mb.interaction.standard
        self.ports.interrupt_flags = &self.mb.cpu.interrupts_flag_register
        self.ports.screen_rgba = <const uint8_t*> &self._pb.screen.raw_buffer[0, 0]

    @property
    def ports_address(self):
        """Address of this emulator's EmuPorts (csrc/emu.h); stable while the Bridge lives."""
        return <uintptr_t> &self.ports

    @property
    def wram_address(self):
        """Address of WRAM (WRAM_SIZE bytes at the Game Boy's WRAM_BASE); stable for the emulator's life."""
        return <uintptr_t> self.ports.wram

    @property
    def screen_address(self):
        """Address of PyBoy's RGBA screen buffer (4 bytes per pixel); stable."""
        return <uintptr_t> self.ports.screen_rgba

    def live_addresses(self):
        """The memories' addresses read afresh from PyBoy (tests: they must equal the ports filled at construction)."""
        return (<uintptr_t> &self.mb.ram.internal_ram0[0], <uintptr_t> &self.mb.lcd.VRAM0[0],
                <uintptr_t> &self.mb.lcd.OAM[0], <uintptr_t> &self.mb.lcd._LCDC.value, <uintptr_t> &self.mb.lcd.BGP.value,
                <uintptr_t> &self._pb.screen.raw_buffer[0, 0])

    def wram_view(self):
        """A zero-copy uint8 memoryview of WRAM."""
        return <uint8_t[:WRAM_SIZE]> self.ports.wram

    def hram_view(self):
        """A zero-copy memoryview of HRAM (0xFF80-0xFFFE)."""
        return <uint8_t[:HRAM_SIZE]> self.ports.hram

    def vram_view(self):
        """A zero-copy memoryview of VRAM bank 0 (0x8000-0x9FFF)."""
        return <uint8_t[:VRAM_SIZE]> &self.mb.lcd.VRAM0[0]

    def oam_view(self):
        """A zero-copy memoryview of OAM (0xFE00-0xFE9F)."""
        return <uint8_t[:OAM_SIZE]> &self.mb.lcd.OAM[0]

    def screen_view(self):
        """A zero-copy (SCREEN_H, SCREEN_W, 4) RGBA view of PyBoy's screen buffer (written by rendered frames)."""
        return <uint8_t[:SCREEN_H, :SCREEN_W, :SCREEN_CHANNELS]> (<uint8_t*> &self._pb.screen.raw_buffer[0, 0])

    def save_state(self):
        """The full emulator state as bytes (PyBoy's own format)."""
        self.buf.clear()
        self.mb.save_state(self.buf)
        return self.buf.to_bytes()

    def load_state(self, bytes state):
        """Restore a state made by save_state (or by pyboy.save_state)."""
        self.buf.load_bytes(state)
        self.mb.load_state(self.buf)
