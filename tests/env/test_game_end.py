"""The game has an end: entering the Hall of Fame with the champion beaten terminates the episode (not truncated),
is the milestone GAME_BEATEN in the episode's row and the run's firsts, and is reported by the policy-alone
evaluation; a start state already in the Hall of Fame plays on. Real PyBoy on the test world's champion room."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

import pokerl_fast
from pokerl_fast.config import EnvConfig
from pokerl_fast.env.progress import GAME_BEATEN
from pokerl_fast.game import constants as C
from pokerl_fast.game.emulator import new_pyboy
from pokerl_fast.game import testworld as tw
from pokerl_fast.game.testworld import layout as L
from pokerl_fast.game.testworld.drive import finish_battle, go_to
from pokerl_fast.learn.policy_alone import evaluate

CHAMPION = L.TRAINERS[0]
BELOW = (CHAMPION.xy[0], CHAMPION.xy[1] + 1)


def saved(pb) -> bytes:
    f = io.BytesIO()
    pb.save_state(f)
    return f.getvalue()


@pytest.fixture(scope="module")
def states(start_state):
    """(below the champion, in the Hall of Fame with the champion beaten) as the test world's own states."""
    pb = new_pyboy(tw.testworld_rom_path())
    try:
        pb.load_state(io.BytesIO(start_state))
        go_to(pb, CHAMPION.room, BELOW)
        below = saved(pb)
        tw.press(pb, "up")
        assert pb.memory[C.IS_IN_BATTLE] == C.BATTLE_TRAINER and pb.memory[C.CUR_OPPONENT] == C.OPP_RIVAL3
        assert finish_battle(pb) is False
        go_to(pb, "HALL_OF_FAME", (5, 1))
        in_hall = saved(pb)
    finally:
        pb.stop(save=False)
    return below, in_hall


# Up onto the champion, A until the battle is won, then up twice: Oak has stepped aside, the door is north.
PLAN = ["up"] + ["a"] * 8 + ["up", "up"]


def test_entering_the_hall_of_fame_after_the_champion_terminates_the_episode(states):
    below, _ = states
    envs = pokerl_fast.make_vec_env(2, start_state=below, reset_noop_max=0, num_threads=1, episode_length=100)
    actions = envs.config.actions
    idle = actions.index("b")
    k = envs.milestone_names.index(GAME_BEATEN)
    try:
        envs.reset(seed=0)
        assert (envs.episode_milestones[:, k] == -1).all()
        for t, press in enumerate(PLAN, start=1):
            _, _, terminated, truncated, info = envs.step(np.array([actions.index(press), idle]))
            if terminated.any():
                break
        assert terminated.tolist() == [True, False] and not truncated.any()
        assert info["_episode"].tolist() == [True, False]
        assert info["final"]["game_beaten"][0] == 1 and info["final"]["map"][0] == C.MAP_IDS["HALL_OF_FAME"]
        assert info["final"]["milestone_steps"][0, k] == t and info["final"]["milestone_steps"][1, k] == -1
        assert envs.progress.take_new_firsts()[-1] == (GAME_BEATEN, 1 * t)
        assert info["map"][0] == C.MAP_IDS[CHAMPION.room]  # a new episode began from the start state
        assert envs.episode_milestones[0, k] == -1
    finally:
        envs.close()


def test_an_episode_that_starts_in_the_hall_of_fame_plays_on(states):
    _, in_hall = states
    envs = pokerl_fast.make_vec_env(1, start_state=in_hall, reset_noop_max=0, num_threads=1, episode_length=30)
    k = envs.milestone_names.index(GAME_BEATEN)
    try:
        _, info = envs.reset(seed=0)
        assert info["game_beaten"][0] == 1 and envs.episode_milestones[0, k] == 0  # held, not earned
        for _ in range(29):
            _, _, terminated, truncated, _ = envs.step(np.array([envs.config.actions.index("b")]))
            assert not terminated.any() and not truncated.any()
        _, _, terminated, truncated, _ = envs.step(np.array([envs.config.actions.index("b")]))
        assert truncated.all() and not terminated.any()
    finally:
        envs.close()


class Scripted(torch.nn.Module):
    """A policy that presses the plan's buttons in turn (its logits put all weight on them), for the evaluation."""

    def __init__(self, actions, plan):
        super().__init__()
        self.ids = [actions.index(p) for p in plan]
        self.n = len(actions)
        self.t = 0

    def initial_state(self, batch, device):
        return torch.zeros(1, batch, 1), torch.zeros(1, batch, 1)

    def forward(self, obs, state, done):
        batch = done.shape[0]
        logits = torch.full((batch, self.n), -1e9)
        logits[:, self.ids[min(self.t, len(self.ids) - 1)]] = 0.0
        self.t += 1
        return logits, torch.zeros(batch), state


def test_the_evaluation_reports_the_game_beaten_at_its_step(states):
    below, _ = states
    cfg = EnvConfig(num_threads=1, reset_noop_max=0)
    policy = Scripted(cfg.actions, PLAN + ["b"] * 40)
    result = evaluate(policy, cfg, episodes=2, steps=40, seed=0, start_state=below, greedy=True)
    beaten = result["milestones"][GAME_BEATEN]
    assert beaten["reach_rate"] == 1.0 and beaten["reached"] == 2
    step = beaten["median_steps"]
    assert 3 < step <= len(PLAN)
    assert all(e["milestones"][GAME_BEATEN] == step for e in result["per_episode"])
    assert result["env_steps"] == 2 * step  # only the ended episodes' own steps count
    assert "HALL_OF_FAME" in result["per_episode"][0]["maps"]


@pytest.mark.parametrize("cell_size", [0, 8])
def test_a_beaten_game_is_never_offered_to_the_swarming_archive(states, cell_size):
    """Swarming and reset to archive must not send envs into the Hall of Fame: Red rolls the credits there and starts
    a new game, an episode that teaches nothing."""
    below, _ = states
    envs = pokerl_fast.make_vec_env(1, start_state=below, reset_noop_max=0, num_threads=1, episode_length=100,
                                    reset_to_archive=0.5, swarm_cell_size=cell_size)
    actions = envs.config.actions
    try:
        envs.reset(seed=0)
        for press in PLAN:
            _, _, terminated, _, _ = envs.step(np.array([actions.index(press)]))
            if terminated.any():
                break
        assert terminated.all()
        assert len(envs.archive)  # the champion's win was offered (a new required event)
        for key in envs.archive.keys():
            for cell in envs.archive.cells(key):
                pb = new_pyboy(tw.testworld_rom_path())
                try:
                    pb.load_state(io.BytesIO(envs.archive.state(key, cell)))
                    assert pb.memory[C.CUR_MAP] != C.MAP_IDS["HALL_OF_FAME"]
                finally:
                    pb.stop(save=False)
    finally:
        envs.close()
