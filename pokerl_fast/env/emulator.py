"""One emulator as the env uses it: the PyBoy bridge (memory, save states) and the core's driver (the step).

``Emulator(pyboy)`` pairs ``_bridge.Bridge`` (the only code that reaches into PyBoy) with ``_core.Driver``
(the C++ step: press, tick, helpers, auto-HM, the native picture). VecEnv hands the drivers to one
``_core.Batch``; tests and tools use an Emulator alone.
"""

from __future__ import annotations

from pokerl_fast._native import _bridge, _core


class Emulator:
    """A running ``pyboy.PyBoy`` (DMG mode, sound off) seen from native code."""

    def __init__(self, pyboy, native_screen: bool = False):
        self.bridge = _bridge.Bridge(pyboy)
        self.driver = _core.Driver(self.bridge, native_screen)
        self.pyboy = pyboy

    # -- memory (zero-copy views; stable for the emulator's life) ---------------------------------------
    @property
    def wram_address(self) -> int:
        return self.bridge.wram_address

    @property
    def screen_address(self) -> int:
        return self.bridge.screen_address

    def wram_view(self):
        return self.bridge.wram_view()

    def hram_view(self):
        return self.bridge.hram_view()

    def vram_view(self):
        return self.bridge.vram_view()

    def oam_view(self):
        return self.bridge.oam_view()

    def screen_view(self):
        """PyBoy's (144, 160, 4) RGBA screen: current only after a rendered frame (screen_source "pyboy")."""
        return self.bridge.screen_view()

    def shades_view(self):
        """The native (72, 80) picture of shades 0..3, drawn after every step (screen_source "native")."""
        return self.driver.shades_view()

    def lcd_registers(self) -> bytes:
        return self.driver.lcd_registers()

    # -- stepping ---------------------------------------------------------------------------------------
    def run_frames(self, button: str | None, hold: int = 8, frames: int = 24, min_frames: int = 0,
                   adaptive: bool = False, helpers: int = 0) -> int:
        """One env step's emulation: press ``button`` for ``hold`` frames within ``frames`` frames (or fewer,
        adaptive), then the helpers. Returns the frames ticked."""
        return self.driver.run_frames(button, hold, frames, min_frames, adaptive, helpers)

    def tick(self, frames: int, render: bool = False) -> None:
        self.driver.tick(frames, render)

    def idle(self, frames: int) -> None:
        self.driver.idle(frames)

    def draw(self) -> None:
        self.driver.draw()

    @property
    def native_screen(self) -> bool:
        return self.driver.native_screen

    @property
    def frames(self) -> int:
        return self.driver.frames

    @property
    def hm_used(self) -> int:
        return self.driver.hm_used

    @property
    def hm_aborted(self) -> int:
        return self.driver.hm_aborted

    # -- state ------------------------------------------------------------------------------------------
    def save_state(self) -> bytes:
        return self.bridge.save_state()

    def load_state(self, state: bytes) -> None:
        self.bridge.load_state(state)
