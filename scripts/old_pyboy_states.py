"""Write the test world's states with older PyBoy releases: the fixtures of tests/game/test_old_states.py.

Users bring states written by PyBoy 1.x-2.7 (the peers' repositories ship them); PyBoy 2.8.1 misreads every
state of versions 8-15 by one byte (pokerl_fast.game.savestate.upgrade_state). These fixtures are states of the
project's own test world ROM (nothing from a Nintendo ROM) written by each release that has a wheel for this
Python, with what that release showed: WRAM and HRAM at the save and 60 frames later, and the screen then.

    python scripts/old_pyboy_states.py            # every release below, into tests/data/old_states/

Each release is installed into its own venv under $TMPDIR (needs PyPI); nothing else on the machine changes.
The same file, run by an old release's Python with --write, is the writer.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import pathlib
import subprocess
import sys
import tempfile

RELEASES = ("1.6.14", "2.0.3", "2.4.1", "2.5.4", "2.7.0")
"""Releases with a CPython 3.11 wheel, one per state layout they write (state versions 9, 10, 12, 14, 15)."""
NUMPY = {"1.6.14": ("numpy<2",), "2.0.3": ("numpy<2",)}
"""The numpy a release's wheel was built against, where pip's newest is not."""
ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "old_states"
WALK = ("right", "right", "down", "down", "left")
"""Presses after the world is ready, so the state is mid-play, not the boot's first frame."""


def RAM_RANGES(C) -> list[list[int]]:  # noqa: N802 (a constant of the constants module)
    """What the fixtures compare: WRAM and HRAM, as [start, end) address ranges."""
    return [[C.WRAM_BASE, C.WRAM_BASE + C.WRAM_SIZE], [C.HRAM_BASE, C.HRAM_BASE + C.HRAM_SIZE]]


def _memory(pyboy, lo: int, hi: int) -> bytes:
    if hasattr(pyboy, "memory"):
        return bytes(pyboy.memory[lo:hi])
    return bytes(pyboy.get_memory_value(a) for a in range(lo, hi))  # PyBoy 1.x


def _screen(pyboy) -> bytes:
    if hasattr(pyboy, "screen"):
        return pyboy.screen.ndarray[:, :, :3].tobytes()
    return pyboy.botsupport_manager().screen().screen_ndarray()[:, :, :3].tobytes()  # PyBoy 1.x


def _tick(pyboy, frames: int) -> None:
    for _ in range(frames):
        pyboy.tick()


def _press(pyboy, button: str) -> None:
    if hasattr(pyboy, "button"):
        pyboy.button(button, 4)
    else:  # PyBoy 1.x: press and release by events
        from pyboy import WindowEvent
        name = button.upper()
        pyboy.send_input(getattr(WindowEvent, "PRESS_ARROW_" + name if button in ("up", "down", "left", "right")
                                 else "PRESS_BUTTON_" + name))
        _tick(pyboy, 4)
        pyboy.send_input(getattr(WindowEvent, "RELEASE_ARROW_" + name if button in ("up", "down", "left", "right")
                                 else "RELEASE_BUTTON_" + name))
    _tick(pyboy, 20)


def write(rom: str, out: str, facts: dict) -> None:
    """Run by an old release (no pokerl_fast there: ``facts`` carries the addresses): boot the test world, walk a
    little, save; record what this release shows."""
    ready_addr, ready_value = facts["ready"]
    ram = lambda: b"".join(_memory(pyboy, lo, hi) for lo, hi in facts["ram"])  # noqa: E731
    from importlib.metadata import version

    from pyboy import PyBoy

    major = int(version("pyboy").split(".")[0])
    kwargs = {"window": "null"} if major >= 2 else {"window_type": "headless"}
    if major >= 2:
        kwargs["sound_emulated"] = False
    pyboy = PyBoy(rom, **kwargs)
    for _ in range(3000):
        _tick(pyboy, 1)
        if _memory(pyboy, ready_addr, ready_addr + 1)[0] == ready_value:
            break
    else:
        raise SystemExit("the test world never became ready")
    for button in WALK:
        _press(pyboy, button)
    state = io.BytesIO()
    pyboy.save_state(state)
    now = ram()
    _tick(pyboy, 60)
    later = ram()
    screen = _screen(pyboy)
    pyboy.stop(save=False)
    sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    meta = {"state_version": state.getvalue()[0], "bytes": len(state.getvalue()), "ram_at_save": sha(now),
            "ram_after_60": sha(later), "screen_after_60": sha(screen),
            "rom_sha1": hashlib.sha1(pathlib.Path(rom).read_bytes()).hexdigest()}
    pathlib.Path(out + ".state.gz").write_bytes(gzip.compress(state.getvalue(), mtime=0))
    pathlib.Path(out + ".json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


def make_all() -> None:
    sys.path.insert(0, str(ROOT))
    from pokerl_fast.game import constants as C
    from pokerl_fast.game.testworld import READY_ADDR, READY_VALUE, testworld_rom_path

    rom = testworld_rom_path()
    facts = json.dumps({"ready": [READY_ADDR, READY_VALUE], "ram": RAM_RANGES(C)})
    OUT.mkdir(parents=True, exist_ok=True)
    base = pathlib.Path(os.environ.get("TMPDIR", tempfile.gettempdir()))
    for release in RELEASES:
        venv = base / f"pokerl-pyboy-{release}"
        if not (venv / "bin" / "python").exists():  # with the numpy and SDL2 that release was built for
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--only-binary=:all:", f"pyboy=={release}",
                            *NUMPY.get(release, ())], check=True)
        subprocess.run([str(venv / "bin" / "python"), __file__, "--write", rom, str(OUT / f"pyboy-{release}"), facts],
                       check=True, cwd=base)
        print(f"pyboy {release}: {json.loads((OUT / f'pyboy-{release}.json').read_text())['state_version']=}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", nargs=3, metavar=("ROM", "OUT", "FACTS_JSON"))
    args = parser.parse_args()
    if args.write:
        rom, out, facts = args.write
        write(rom, out, json.loads(facts))
    else:
        make_all()
