"""Watch the policy play one episode at the game's speed in a real PyBoy window (``eval --watch``), or, on a machine
without a display, on a local page that streams the same screen at the game's speed (``FrameServer``).

The env steps as in training (the native emulator, headless); a second PyBoy with an SDL2 window starts from the
same state and replays each step: the step's button held as the env holds it, then exactly the frames the env
ticked, at ``speed`` times the Game Boy's 60 frames a second (PyBoy's own pacing). After every step the window's
RAM is compared with the env's; a step the replay cannot mirror (a scripted helper pressing through a menu) is
put right by loading the env's state into the window, and counted. Nothing of it is written to disk.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

import numpy as np
import torch

from pokerl_fast.config import EnvConfig
from pokerl_fast.game import constants as C
from pokerl_fast.game.emulator import new_pyboy
from pokerl_fast.learn.policy_alone import evaluation_config
from pokerl_fast.learn.ppo import obs_to_torch

__all__ = ["FrameServer", "watch_episode"]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>pokerl_fast watch</title>
<style> body { background:#0c0c14; color:#ddd; font:14px sans-serif; margin:12px; }
 #screen { image-rendering:pixelated; width:480px; height:432px; display:block; margin-bottom:8px; } </style>
</head><body><img id="screen" alt="game screen"><div id="status" class="dim">waiting for the episode</div>
<script>
const img = document.getElementById("screen"), status = document.getElementById("status");
window.watch = {frames: 0};
async function next() {
  try {
    const s = await (await fetch("state.json", {cache: "no-store"})).json();
    if (s.step !== window.watch.step) {
      await new Promise((ok) => { img.onload = ok; img.onerror = ok; img.src = "frame.png?step=" + s.step; });
      window.watch.frames += 1;
    }
    window.watch.step = s.step; window.watch.state = s;
    status.textContent = "step " + s.step + "   return " + s.ret.toFixed(2) + (s.done ? "   (episode over)" : "");
  } catch (e) { window.watch.error = String(e); }
  setTimeout(next, 16);
}
next();
</script></body></html>
"""


class FrameServer:
    """The episode's screen on a local page (127.0.0.1 only): ``/`` the page, ``/frame.png`` the latest frame,
    ``/state.json`` {"step", "ret", "done"}. ``show(rgb, step, ret)`` after each step; ``close()`` at the end."""

    def __init__(self, port: int = 0):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from pokerl_fast.watch.live import send_body

        self._lock = threading.Lock()
        self._png, self._state = b"", {"step": -1, "ret": 0.0, "done": False}
        frames = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                with frames._lock:
                    body, kind = {"/": (PAGE.encode(), "text/html; charset=utf-8"),
                                  "/frame.png": (frames._png, "image/png"),
                                  "/state.json": (json.dumps(frames._state).encode(), "application/json")
                                  }.get(path, (None, None))
                if body is None:
                    self.send_error(404)
                    return
                send_body(self, body, kind)

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, name="watch-page", daemon=True)
        self._thread.start()

    def show(self, rgb: np.ndarray, step: int, ret: float, done: bool = False) -> None:
        from pokerl_fast.watch.kanto_map import png_bytes

        png = png_bytes(rgb, compress_level=1)  # every step: fast over small
        with self._lock:
            self._png, self._state = png, {"step": step, "ret": ret, "done": done}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _window_pyboy(rom_path, window: str, speed: float):
    pb = new_pyboy(rom_path, window=window, scale=3)
    pb.set_emulation_speed(speed)  # 1: the Game Boy's speed; 0: as fast as it can
    return pb


def _wram(pb) -> bytes:
    return bytes(pb.memory[C.WRAM_BASE:C.WRAM_BASE + C.WRAM_SIZE])


@torch.no_grad()
def watch_episode(policy, env_config: EnvConfig, *, steps: int, seed: int, speed: float = 1.0, greedy: bool = False,
                  start_state: bytes | None = None, window: str = "SDL2", device: str | torch.device = "cpu",
                  on_step=None) -> dict[str, Any]:
    """Play one episode of at most ``steps`` steps with ``policy`` and show it in a PyBoy ``window`` ("SDL2"; "null"
    for the page or tests). ``on_step(window_pyboy, t, return so far)`` after every step (a "null" window is
    paced here to ``speed``). Returns {"steps", "return",
    "resynced", "final_wram_matches"}; the window closes when the episode ends or on Ctrl-C."""
    from pokerl_fast.env import VecEnv

    envs = VecEnv(1, evaluation_config(env_config, steps, seed), start_state=start_state)
    view = None
    try:
        view = _window_pyboy(envs.rom.path, window, speed)
        obs, _ = envs.reset(seed=seed)
        view.load_state(io.BytesIO(envs.emulators[0].save_state()))
        generator = torch.Generator(device=device).manual_seed(seed)
        lstm = policy.initial_state(1, device)
        done = torch.zeros(1, device=device)
        hold = envs.config.button_hold_frames
        total, resynced, t, matches = 0.0, 0, 0, True
        clock, due = time.monotonic(), 0.0  # a null window does not pace itself: the game's speed is kept here
        for t in range(1, steps + 1):
            logits, _, lstm = policy(obs_to_torch(obs, device), lstm, done)
            if greedy:
                action = int(logits.argmax(dim=-1)[0])
            else:
                action = int(torch.multinomial(torch.softmax(logits.float(), dim=-1), 1, generator=generator)[0, 0])
            obs, reward, terminated, truncated, info = envs.step(np.array([action]))
            total += float(reward[0])
            button = envs.config.actions[action]
            if button != "noop" and hold:
                view.button(button, hold)
            view.tick(int(info["frames"][0]), True)
            if window == "null" and speed > 0:
                due += int(info["frames"][0]) / (60.0 * speed)
                time.sleep(max(0.0, clock + due - time.monotonic()))
            ended = bool(terminated[0] or truncated[0])
            if not ended:  # an ended env has already loaded its next episode's start
                matches = _wram(view) == bytes(np.asarray(envs.emulators[0].wram_view()))
                if not matches:
                    view.load_state(io.BytesIO(envs.emulators[0].save_state()))
                    resynced += 1
            if on_step is not None:
                on_step(view, t, total)
            if ended:
                break
        return {"steps": t, "return": total, "resynced": resynced, "final_wram_matches": matches}
    finally:
        if view is not None:
            view.stop(save=False)
        envs.close()
