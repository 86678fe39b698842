"""Watch the policy play one episode at the game's speed in a real PyBoy window (``eval --watch``).

The env steps as in training (the native emulator, headless); a second PyBoy with an SDL2 window starts from the
same state and replays each step: the step's button held as the env holds it, then exactly the frames the env
ticked, at ``speed`` times the Game Boy's 60 frames a second (PyBoy's own pacing). After every step the window's
RAM is compared with the env's; a step the replay cannot mirror (a scripted helper pressing through a menu) is
put right by loading the env's state into the window, and counted. Nothing of it is written to disk.
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np
import torch

from pokerl_fast.config import EnvConfig
from pokerl_fast.game import constants as C
from pokerl_fast.game.emulator import SOUND_EMULATED
from pokerl_fast.learn.policy_alone import evaluation_config
from pokerl_fast.learn.ppo import obs_to_torch

__all__ = ["watch_episode"]


def _window_pyboy(rom_path, window: str, speed: float):
    from pyboy import PyBoy

    pb = PyBoy(os.fspath(rom_path), window=window, sound_emulated=SOUND_EMULATED, cgb=False, log_level="ERROR",
               scale=3)
    pb.set_emulation_speed(speed)  # 1: the Game Boy's speed; 0: as fast as it can
    return pb


def _wram(pb) -> bytes:
    return bytes(pb.memory[C.WRAM_BASE:C.WRAM_BASE + C.WRAM_SIZE])


@torch.no_grad()
def watch_episode(policy, env_config: EnvConfig, *, steps: int, seed: int, speed: float = 1.0, greedy: bool = False,
                  start_state: bytes | None = None, window: str = "SDL2", device: str | torch.device = "cpu",
                  on_step=None) -> dict[str, Any]:
    """Play one episode of at most ``steps`` steps with ``policy`` and show it in a PyBoy ``window`` ("SDL2"; "null"
    for tests without a display). ``on_step(window_pyboy, t)`` after every step. Returns {"steps", "return",
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
            ended = bool(terminated[0] or truncated[0])
            if not ended:  # an ended env has already loaded its next episode's start
                matches = _wram(view) == bytes(np.asarray(envs.emulators[0].wram_view()))
                if not matches:
                    view.load_state(io.BytesIO(envs.emulators[0].save_state()))
                    resynced += 1
            if on_step is not None:
                on_step(view, t)
            if ended:
                break
        return {"steps": t, "return": total, "resynced": resynced, "final_wram_matches": matches}
    finally:
        if view is not None:
            view.stop(save=False)
        envs.close()
