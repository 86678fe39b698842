"""The zero-copy PyBoy bridge agrees with PyBoy's public API, byte for byte."""

import io

import numpy as np
import pytest

import support

from pokerl_fast.game import constants as C
from pokerl_fast.env.emulator import Emulator

BUTTONS = ("down", "left", "right", "up", "a", "b", "start")


@pytest.fixture
def booted():
    pb = support.testworld_pyboy()
    emu = Emulator(pb)
    yield pb, emu
    pb.stop(save=False)


def assert_views_match(pb, emu):
    assert bytes(emu.wram_view()) == bytes(pb.memory[C.WRAM_BASE:C.WRAM_BASE + C.WRAM_SIZE])
    assert bytes(emu.hram_view()) == bytes(pb.memory[C.HRAM_BASE:C.HRAM_BASE + C.HRAM_SIZE])
    assert bytes(emu.vram_view()) == bytes(pb.memory[0x8000:0xA000])
    assert bytes(emu.oam_view()) == bytes(pb.memory[C.OAM_BASE:C.OAM_BASE + C.OAM_SIZE])
    assert np.array_equal(np.asarray(emu.screen_view()), pb.screen.ndarray)


def test_every_view_matches_pyboy_memory_after_random_play(booted):
    pb, emu = booted
    rng = np.random.default_rng(0)
    for step in range(150):
        emu.run_frames(BUTTONS[rng.integers(len(BUTTONS))], 8, 24)
        if step % 10 == 0:
            assert_views_match(pb, emu)
    assert_views_match(pb, emu)


def test_every_address_the_project_reads_matches(booted):
    """The named addresses (generated constants) read through the bridge equal pyboy.memory."""
    pb, emu = booted
    wram = np.asarray(emu.wram_view())
    names = [n for n in dir(C) if n.isupper() and isinstance(getattr(C, n), int) and C.WRAM_BASE <= getattr(C, n) < C.WRAM_BASE + C.WRAM_SIZE]
    assert len(names) > 15
    rng = np.random.default_rng(1)
    for _ in range(60):
        emu.run_frames(BUTTONS[rng.integers(len(BUTTONS))], 8, 24)
        for n in names:
            addr = getattr(C, n)
            assert wram[addr - C.WRAM_BASE] == pb.memory[addr], n
    events = bytes(wram[C.EVENT_FLAGS - C.WRAM_BASE:C.EVENT_FLAGS - C.WRAM_BASE + C.EVENT_FLAGS_BYTES])
    assert events == bytes(pb.memory[C.EVENT_FLAGS:C.EVENT_FLAGS + C.EVENT_FLAGS_BYTES])


def test_run_frames_equals_pyboy_button_and_tick(booted):
    """Our GIL-free frame loop is the same emulation as pyboy.button(b, 8) + tick(24)."""
    pb, emu = booted
    other = support.testworld_pyboy(emu.save_state())
    try:
        rng = np.random.default_rng(2)
        for _ in range(80):
            b = BUTTONS[rng.integers(len(BUTTONS))]
            emu.run_frames(b, 8, 24)
            other.button(b, 8)
            other.tick(24, render=True)
            assert bytes(emu.wram_view()) == bytes(other.memory[C.WRAM_BASE:C.WRAM_BASE + C.WRAM_SIZE])
        assert np.array_equal(np.asarray(emu.screen_view()), other.screen.ndarray)
    finally:
        other.stop(save=False)


def test_save_state_is_pyboys_format_and_round_trips(booted):
    pb, emu = booted
    emu.run_frames("right", 8, 24)
    ours = emu.save_state()
    theirs = io.BytesIO()
    pb.save_state(theirs)
    assert ours == theirs.getvalue()
    emu.run_frames("down", 8, 48)
    after = bytes(emu.wram_view())
    emu.load_state(ours)
    assert emu.save_state() == ours
    emu.run_frames("down", 8, 48)
    assert bytes(emu.wram_view()) == after


def test_wram_address_is_stable_across_ticks_and_loads(booted):
    pb, emu = booted
    addr = emu.wram_address
    screen = emu.screen_address
    live = emu.bridge.live_addresses()
    s = emu.save_state()
    emu.run_frames("up", 8, 24)
    emu.load_state(s)
    assert emu.wram_address == addr and emu.screen_address == screen
    assert emu.bridge.live_addresses() == live  # the ports the core holds still point at PyBoy's memories


def test_adaptive_step_ends_when_ready_and_never_before_min(booted):
    pb, emu = booted
    wram = np.asarray(emu.wram_view())
    frames = [emu.run_frames("a", 8, 24, min_frames=12, adaptive=True) for _ in range(20)]
    assert all(12 <= f <= 24 for f in frames)
    # Idle in a ready state: the step is cut at the minimum.
    assert wram[C.JOY_IGNORE - C.WRAM_BASE] == 0 and wram[C.WALK_COUNTER - C.WRAM_BASE] == 0
    assert emu.run_frames("", 0, 24, min_frames=12, adaptive=True) == 12


def test_truncated_state_is_refused(booted):
    pb, emu = booted
    s = emu.save_state()
    with pytest.raises(EOFError):
        emu.load_state(s[: len(s) // 2])


def test_rejects_non_pyboy():
    with pytest.raises(TypeError):
        Emulator(object())
