"""Fixtures shared by every test folder: the test world ROM, its booted state, a PyBoy standing there.

The tests are split as the package is: game/ (constants, ROM check, start states, Kanto map, test world),
core/ (the C++ core through its bindings: bridge, kernels, step decisions, auto-HM), env/ (vector env,
progress, swarming), learn/ (policy, PPO, checkpoints, learning), and the trainer and repo-wide checks here.
"""

from __future__ import annotations

import pytest

import support
from pokerl_fast.game import testworld


@pytest.fixture(scope="session")
def testworld_rom() -> str:
    """Path of the generated test world ROM (built once, cached)."""
    return testworld.testworld_rom_path()


@pytest.fixture(scope="session")
def boot_state(testworld_rom) -> bytes:
    """The test world's state just after boot, in control in the bedroom."""
    pb = support.testworld_pyboy()
    try:
        return support.save_state(pb)
    finally:
        pb.stop(save=False)


@pytest.fixture
def booted_pyboy(boot_state):
    """A fresh PyBoy on the test world, loaded from the booted state; stopped after the test."""
    pb = support.testworld_pyboy(boot_state)
    yield pb
    pb.stop(save=False)


@pytest.fixture(scope="session")
def start_state() -> bytes:
    """The env's own start state for the bundled test world (what every episode starts from)."""
    from pokerl_fast.config import EnvConfig
    from pokerl_fast.env import load_start_state
    from pokerl_fast.game.rom import resolve_rom

    return load_start_state(EnvConfig(), resolve_rom(None))
