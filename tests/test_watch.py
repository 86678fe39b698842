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
                           on_step=lambda view, t, ret: seen.append(t))
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

    def on_step(view, t, ret):
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


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("watchrun") / "run"
    train = subprocess.run([sys.executable, "-m", "pokerl_fast.train", "--run-dir", str(run), "--num-envs", "2",
                            "--num-steps", "16", "--bptt", "8", "--total-steps", "32", "--hidden-size", "32",
                            "--cnn-channels", "4", "8", "8", "--cnn-features", "32", "--map-embedding", "4",
                            "--ram-hidden", "16", "--no-progress", "--eval-interval", "0"],
                           capture_output=True, text=True, timeout=300)
    assert train.returncode == 0, train.stderr[-2000:]
    return run


def test_watch_plays_a_runs_checkpoint_from_the_command_line(tiny_run, xvfb):
    run = tiny_run
    done = subprocess.run([sys.executable, "-m", "pokerl_fast.eval", str(run), "--watch", "--speed", "0",
                           "--steps", "30"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "episode: 30 steps" in done.stdout and not (run / "eval").exists()  # --watch writes nothing


@pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("chromedriver")),
                    reason="needs Debian's chromium and chromium-driver (CI installs them)")
def test_without_a_display_the_episode_streams_to_a_local_page_at_game_speed(tiny_run):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from test_live_map import CHROMIUM, DRIVER

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.Popen([sys.executable, "-m", "pokerl_fast.eval", str(tiny_run), "--watch", "--speed", "4",
                             "--steps", "150", "--watch-port", "0"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    url = None
    try:
        for line in proc.stdout:
            if line.startswith("no display: the episode streams to "):
                url = line.split(" to ", 1)[1].split()[0]
                break
        assert url and url.startswith("http://127.0.0.1:")
        os.environ["SE_AVOID_STATS"] = "true"
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
            options.add_argument(arg)
        driver = webdriver.Chrome(options=options, service=Service(DRIVER))
        try:
            driver.get(url)
            end = time.monotonic() + 30
            while time.monotonic() < end and driver.execute_script("return window.watch.frames") < 10:
                time.sleep(0.2)
            first = driver.execute_script("return [window.watch.frames, window.watch.step, "
                                          "document.getElementById('screen').naturalWidth]")
            assert first[0] >= 10 and first[2] == 160  # the game's screen, frame after frame
            time.sleep(1.0)
            later = driver.execute_script("return window.watch.step")
            # paced: 4x the game's 60 frames/s at 12-24 frames a step is 10-20 steps a second, not thousands
            assert 5 <= later - first[1] <= 40
            assert driver.execute_script("return window.watch.error") is None
        finally:
            driver.quit()
        rest, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0 and "episode: 150 steps" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
