"""eval --watch: one episode in a real PyBoy window at the game's speed. The window's PyBoy replays each env step
(the button held as the env holds it, the frames the env ticked) and its RAM matches the env's at every step; under
Xvfb the SDL2 window shows the game screen at 3x (a screenshot); without a display --watch is one line, exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from pokerl_fast.config import EnvConfig
from pokerl_fast.learn.policy import Policy, PolicyConfig
from pokerl_fast.watch.window import watch_episode

TINY = PolicyConfig(hidden_size=32, cnn_channels=(4, 8, 8), cnn_features=32, map_embedding=4, ram_hidden=16)


@pytest.fixture(scope="module")
def policy():
    from pokerl_fast.env import VecEnv

    envs = VecEnv(1, EnvConfig(num_threads=1))
    try:
        torch.manual_seed(0)
        return Policy.from_spaces(envs.single_observation_space, envs.single_action_space, TINY)
    finally:
        envs.close()


def test_the_window_replays_every_env_step_exactly(policy):
    seen = []
    result = watch_episode(policy, EnvConfig(num_threads=1), steps=200, seed=3, speed=0, window="null",
                           on_step=lambda view, t: seen.append(t))
    assert result["steps"] == 200 and seen == list(range(1, 201))
    assert result["resynced"] == 0 and result["final_wram_matches"]


@pytest.fixture
def xvfb(monkeypatch):
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (CI installs it with apt): the window is not checked")
    display = f":{90 + os.getpid() % 9}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x1024x24"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    monkeypatch.setenv("DISPLAY", display)
    yield display
    server.terminate()
    server.wait()


def test_under_xvfb_the_window_shows_the_game_screen_at_3x(policy, xvfb):
    from PIL import ImageGrab

    shots = {}

    def on_step(view, t):
        if t == 12:
            shots["desktop"] = np.asarray(ImageGrab.grab(xdisplay=xvfb).convert("RGB"))
            shots["screen"] = view.screen.ndarray[:, :, :3].copy()

    start = time.monotonic()
    result = watch_episode(policy, EnvConfig(num_threads=1), steps=20, seed=1, speed=4, window="SDL2",
                           on_step=on_step)
    assert result["resynced"] == 0 and time.monotonic() - start > 0.5  # paced: 20 steps of 12-24 frames at 240 fps
    desktop, screen = shots["desktop"], shots["screen"].repeat(3, 0).repeat(3, 1)
    lit = np.argwhere((desktop != 0).any(-1))
    mine = np.argwhere((screen != 0).any(-1))
    y0, x0 = lit.min(0) - mine.min(0)  # where the window's picture sits on the desktop
    shown = desktop[y0:y0 + screen.shape[0], x0:x0 + screen.shape[1]]
    assert shown.shape == screen.shape
    assert (shown == screen).all(-1).mean() > 0.99  # the game screen, pixel for pixel


def test_watch_without_a_display_is_one_line_and_exit_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([sys.executable, "-m", "pokerl_fast.eval", str(tmp_path / "nothing"), "--watch"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "needs a display" in done.stderr


def test_watch_plays_a_runs_checkpoint_from_the_command_line(tmp_path, xvfb):
    run = tmp_path / "run"
    train = subprocess.run([sys.executable, "-m", "pokerl_fast.train", "--run-dir", str(run), "--num-envs", "2",
                            "--num-steps", "16", "--bptt", "8", "--total-steps", "32", "--hidden-size", "32",
                            "--cnn-channels", "4", "8", "8", "--cnn-features", "32", "--map-embedding", "4",
                            "--ram-hidden", "16", "--no-progress", "--eval-interval", "0"],
                           capture_output=True, text=True, timeout=300)
    assert train.returncode == 0, train.stderr[-2000:]
    done = subprocess.run([sys.executable, "-m", "pokerl_fast.eval", str(run), "--watch", "--speed", "0",
                           "--steps", "30"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "episode: 30 steps" in done.stdout and not (run / "eval").exists()  # --watch writes nothing
