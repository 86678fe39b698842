"""Per-env milestones: the step of the episode at which each env first reached each required event and badge,
carried into info["final"] at episode ends, kept across get_state/set_state, and logged per milestone."""

from __future__ import annotations

import numpy as np

import pokerl_fast
from pokerl_fast.game import constants as C
from pokerl_fast.game import testworld as tw
from pokerl_fast.run.logger import EpisodeStats

TRIGGER = tw.TRIGGERS[0]  # PALLET_TOWN (3, 2) sets EVENT_FOLLOWED_OAK_INTO_LAB
PATH = tw.find_path(tw.START_ROOM, tw.START_XY, TRIGGER.room, TRIGGER.xy)


def test_each_env_records_the_episode_step_of_its_first_milestone():
    episode_length = len(PATH) + 3
    envs = pokerl_fast.make_vec_env(2, episode_length=episode_length, reset_noop_max=0, num_threads=1)
    stats = EpisodeStats(envs.reward_terms, envs.milestone_names)
    k = envs.milestone_names.index(TRIGGER.event)
    actions = envs.config.actions
    idle = actions.index("b")  # env 1 presses B (nothing happens) while env 0 walks to the trigger
    try:
        envs.reset(seed=0)
        assert envs.episode_milestones.shape == (2, len(envs.milestone_names))
        assert (envs.episode_milestones == -1).all()  # the start state has none
        walk = [actions.index(d) for d in PATH] + [idle] * (episode_length - len(PATH))
        for t, a in enumerate(walk, start=1):
            _, reward, _, truncated, info = envs.step(np.array([a, idle]))
            stats.record(reward, info, global_step=2 * t)
            if t == len(PATH):
                row = envs.episode_milestones[0]
                assert row[k] == len(PATH)  # reached on the walk's last step, and only that one
                assert (np.delete(row, k) == -1).all() and (envs.episode_milestones[1] == -1).all()
        assert truncated.all()
        final = info["final"]["milestone_steps"]
        assert final[0, k] == len(PATH) and (final[1] == -1).all()
        assert (envs.episode_milestones == -1).all()  # both envs were reset in that same step
    finally:
        envs.close()
    out = stats.drain()
    assert out[f"episode/milestone_step/{TRIGGER.event}"] == len(PATH)
    assert out[f"episode/milestone_rate/{TRIGGER.event}"] == 0.5  # one of the two ended episodes
    assert not any(key.startswith("episode/milestone_step/BADGE") for key in out)


def test_milestones_held_at_the_start_count_as_step_zero_and_survive_set_state():
    envs = pokerl_fast.make_vec_env(1, reset_noop_max=0, num_threads=1)
    actions = envs.config.actions
    try:
        envs.reset(seed=0)
        for d in PATH:
            envs.step(np.array([actions.index(d)]))
        state_after = envs.emulators[0].save_state()
        saved = envs.get_state()
        envs.step(np.array([actions.index("b")]))
        envs.episode_milestones[:] = 7  # scribble; set_state must put the recorded row back
        envs.set_state(saved)
        k = envs.milestone_names.index(TRIGGER.event)
        assert envs.episode_milestones[0, k] == len(PATH)
    finally:
        envs.close()
    envs = pokerl_fast.make_vec_env(1, start_state=state_after, reset_noop_max=0, num_threads=1)
    try:
        envs.reset(seed=0)
        assert envs.episode_milestones[0, k] == 0  # set when the episode began
        assert (np.delete(envs.episode_milestones[0], k) == -1).all()
    finally:
        envs.close()


def test_the_first_time_a_milestone_is_reached_its_env_leaves_a_clip_of_its_last_screens():
    from pokerl_fast.watch.kanto_map import screens_to_rgb

    steps = 12
    envs = pokerl_fast.make_vec_env(2, reset_noop_max=0, num_threads=1, clip_steps=steps)
    actions = envs.config.actions
    idle = actions.index("b")
    screens = []
    try:
        envs.reset(seed=0)
        for d in PATH:  # env 1 walks to the trigger; env 0 presses B
            obs, *_ = envs.step(np.array([idle, actions.index(d)]))
            screens.append(obs["screen"][1].copy())
        clips = envs.take_clips()
        assert [(c[0], c[1], c[2]) for c in clips] == [(TRIGGER.event, 1, len(PATH))]
        frames = clips[0][3]
        assert frames.shape == (steps, *obs["screen"].shape[1:])
        assert np.array_equal(frames, np.stack(screens[-steps:]))  # the env's last screens, oldest first
        assert envs.take_clips() == []  # taken once
        rgb = screens_to_rgb(frames)
        assert rgb.shape == (steps, C.SCREEN_H, C.SCREEN_W, 3) and len(np.unique(rgb.reshape(-1, 3), axis=0)) >= 2
    finally:
        envs.close()
