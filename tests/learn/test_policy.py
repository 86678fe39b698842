"""Policy network: 2-bit unpacking, shapes, recurrence and reset rules, parameter budget."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from pokerl_fast.game import constants as C
from pokerl_fast.learn.policy import Policy, PolicyConfig, unpack_2bit, unpack_2bit_reference

PACKED_SHAPE = (C.OBS_H, C.OBS_PACKED_W)  # the env's packed screen and visited mask
RAM_FEATURES = 48
TINY = PolicyConfig(hidden_size=32, cnn_channels=(4, 8, 8), cnn_features=32, map_embedding=4, ram_hidden=16)


def random_obs(lead: tuple[int, ...], gen: torch.Generator, ram_features: int = RAM_FEATURES) -> dict:
    """Observations with the env's shapes and dtypes (random content)."""
    return {
        "screen": torch.randint(0, 256, lead + PACKED_SHAPE, dtype=torch.uint8, generator=gen),
        "visited": torch.randint(0, 256, lead + PACKED_SHAPE, dtype=torch.uint8, generator=gen),
        "ram": torch.randn(lead + (ram_features,), generator=gen),
        "map_id": torch.randint(0, 256, lead + (1,), dtype=torch.uint8, generator=gen),
    }


def obs_space(ram_features: int = RAM_FEATURES) -> gym.spaces.Dict:
    return gym.spaces.Dict({
        "screen": gym.spaces.Box(0, 255, PACKED_SHAPE, np.uint8),
        "visited": gym.spaces.Box(0, 255, PACKED_SHAPE, np.uint8),
        "ram": gym.spaces.Box(-np.inf, np.inf, (ram_features,), np.float32),
        "map_id": gym.spaces.Box(0, 255, (1,), np.uint8),
    })


def test_unpack_matches_per_pixel_reference_on_random_bytes():
    rng = np.random.default_rng(0)
    packed = rng.integers(0, 256, (3, *PACKED_SHAPE), dtype=np.uint8)
    got = unpack_2bit(torch.from_numpy(packed)).numpy()
    assert got.shape == (3, C.OBS_H, C.OBS_W) and got.dtype == np.uint8
    np.testing.assert_array_equal(got, unpack_2bit_reference(packed))


def test_unpack_puts_first_pixel_in_high_bits():
    packed = torch.tensor([[0b11_10_01_00, 0b00_00_00_11]], dtype=torch.uint8)
    assert unpack_2bit(packed).tolist() == [[3, 2, 1, 0, 0, 0, 0, 3]]


def test_unpack_matches_reference_on_real_env_observations():
    import pokerl_fast

    envs = pokerl_fast.make_vec_env(2, seed=0)
    try:
        obs, _ = envs.reset(seed=0)
        for _ in range(5):
            obs, *_ = envs.step(np.array([4, 0]))
        for key in ("screen", "visited"):
            packed = obs[key].copy()
            np.testing.assert_array_equal(unpack_2bit(torch.from_numpy(packed)).numpy(), unpack_2bit_reference(packed))
        assert len(np.unique(unpack_2bit(torch.from_numpy(obs["screen"].copy())).numpy())) > 1, "blank screen"
    finally:
        envs.close()


def test_default_policy_is_under_ten_million_parameters():
    policy = Policy.from_spaces(obs_space(), gym.spaces.Discrete(7))
    n = policy.num_parameters()
    assert 1_000_000 < n < 10_000_000, n
    assert policy.config.hidden_size == 512


def test_shapes_single_step_and_sequence():
    gen = torch.Generator().manual_seed(0)
    policy = Policy(RAM_FEATURES, 7, TINY, packed_shape=PACKED_SHAPE)
    state = policy.initial_state(5)
    logits, value, (h, c) = policy(random_obs((5,), gen), state, torch.zeros(5))
    assert logits.shape == (5, 7) and value.shape == (5,) and h.shape == c.shape == (5, 32)
    logits, values, (h, c) = policy.forward_sequence(random_obs((6, 5), gen), state, torch.zeros(6, 5))
    assert logits.shape == (6, 5, 7) and values.shape == (6, 5) and h.shape == (5, 32)


def test_sequence_equals_step_by_step_with_resets():
    gen = torch.Generator().manual_seed(1)
    policy = Policy(RAM_FEATURES, 7, TINY, packed_shape=PACKED_SHAPE)
    T, B = 7, 4
    obs = random_obs((T, B), gen)
    dones = torch.zeros(T, B)
    dones[0, 2] = dones[3, 1] = dones[5, 0] = dones[5, 3] = 1
    state = (torch.randn(B, 32, generator=gen), torch.randn(B, 32, generator=gen))
    with torch.no_grad():
        seq_logits, seq_values, seq_state = policy.forward_sequence(obs, state, dones)
        s = state
        for t in range(T):
            logits, value, s = policy({k: v[t] for k, v in obs.items()}, s, dones[t])
            torch.testing.assert_close(logits, seq_logits[t], rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(value, seq_values[t], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(s[0], seq_state[0], rtol=1e-5, atol=1e-5)


def test_done_resets_the_state_before_the_observation():
    gen = torch.Generator().manual_seed(2)
    policy = Policy(RAM_FEATURES, 7, TINY, packed_shape=PACKED_SHAPE)
    obs = random_obs((3,), gen)
    zero = policy.initial_state(3)
    other = (torch.randn(3, 32, generator=gen), torch.randn(3, 32, generator=gen))
    with torch.no_grad():
        fresh = policy(obs, zero, torch.zeros(3))
        reset = policy(obs, other, torch.ones(3))
        carried = policy(obs, other, torch.zeros(3))
    torch.testing.assert_close(reset[0], fresh[0])
    assert not torch.allclose(carried[0], fresh[0])


def test_all_inputs_reach_the_output():
    gen = torch.Generator().manual_seed(3)
    policy = Policy(RAM_FEATURES, 7, TINY, packed_shape=PACKED_SHAPE)
    obs = random_obs((2,), gen)
    state = policy.initial_state(2)
    with torch.no_grad():
        base = policy(obs, state, torch.zeros(2))[0]
        for key in obs:
            changed = dict(obs)
            changed[key] = random_obs((2,), torch.Generator().manual_seed(99))[key]
            assert not torch.allclose(policy(changed, state, torch.zeros(2))[0], base), key


def test_from_spaces_refuses_wrong_screen_shape():
    space = obs_space()
    space.spaces["screen"] = gym.spaces.Box(0, 255, (C.OBS_H, C.OBS_W), np.uint8)  # unpacked: wrong
    with pytest.raises(ValueError, match="screen"):
        Policy.from_spaces(space, gym.spaces.Discrete(7))


def test_image_size_comes_from_the_observation_space():
    assert Policy.from_spaces(obs_space(), gym.spaces.Discrete(7), TINY).image_shape == (C.OBS_H, C.OBS_W)
    space = obs_space()
    for key in ("screen", "visited"):
        space.spaces[key] = gym.spaces.Box(0, 255, (36, 10), np.uint8)  # any packed size the CNN can take
    policy = Policy.from_spaces(space, gym.spaces.Discrete(7), TINY)
    assert policy.packed_shape == (36, 10) and policy.image_shape == (36, 40)
    obs = random_obs((2,), torch.Generator())
    obs["screen"], obs["visited"] = obs["screen"][:, :36, :10], obs["visited"][:, :36, :10]
    assert policy(obs, policy.initial_state(2), torch.zeros(2))[0].shape == (2, 7)
    with pytest.raises(ValueError, match="too small"):
        Policy(RAM_FEATURES, 7, TINY, packed_shape=(8, 2))


def test_bf16_autocast_keeps_float32_outputs_close_to_the_float32_network():
    gen = torch.Generator().manual_seed(4)
    torch.manual_seed(0)
    fp32 = Policy(RAM_FEATURES, 7, TINY, packed_shape=PACKED_SHAPE)
    bf16 = Policy(RAM_FEATURES, 7, PolicyConfig(**{**TINY.__dict__, "bf16": True}), packed_shape=PACKED_SHAPE)
    bf16.load_state_dict(fp32.state_dict())
    obs = random_obs((6, 3), gen)
    dones = torch.zeros(6, 3)
    dones[2, 1] = 1
    state = fp32.initial_state(3)
    with torch.no_grad():
        a = fp32.forward_sequence(obs, state, dones)
        b = bf16.forward_sequence(obs, state, dones)
        step = bf16({k: v[0] for k, v in obs.items()}, state, dones[0])
    for x, y in zip((a[0], a[1], *a[2]), (b[0], b[1], *b[2])):
        assert y.dtype == torch.float32
        torch.testing.assert_close(y, x, rtol=0.05, atol=0.05)  # bfloat16 keeps ~3 significant digits
        assert not torch.equal(x, y)  # autocast really ran in lower precision
    assert all(t.dtype == torch.float32 for t in (step[0], step[1], *step[2]))


def test_progress_observation_gets_its_own_branch_and_old_checkpoints_still_load():
    """observe_progress adds a "progress" key: the policy grows an MLP branch for it; without the key the
    parameters are exactly those of a policy from before the key existed (its checkpoints load strictly)."""
    cfg = PolicyConfig(hidden_size=32, cnn_features=32, ram_hidden=16, progress_hidden=8)
    space = obs_space()
    with_progress = gym.spaces.Dict({**space.spaces, "progress": gym.spaces.Box(0.0, 1.0, (11,), np.float32)})
    plain = Policy.from_spaces(space, gym.spaces.Discrete(7), cfg)
    grown = Policy.from_spaces(with_progress, gym.spaces.Discrete(7), cfg)
    assert plain.progress_mlp is None and not any(k.startswith("progress") for k in plain.state_dict())
    assert grown.progress_features == 11
    assert {k for k in grown.state_dict() if k.startswith("progress_mlp")} == {"progress_mlp.0.weight",
                                                                               "progress_mlp.0.bias"}
    Policy.from_spaces(space, gym.spaces.Discrete(7), cfg).load_state_dict(plain.state_dict(), strict=True)
    gen = torch.Generator().manual_seed(0)
    obs = random_obs((3,), gen)
    obs["progress"] = torch.rand(3, 11, generator=gen)
    logits, value, _ = grown(obs, grown.initial_state(3), torch.zeros(3))
    assert logits.shape == (3, 7) and value.shape == (3,)
    obs2 = dict(obs, progress=torch.zeros(3, 11))
    assert not torch.equal(grown(obs2, grown.initial_state(3), torch.zeros(3))[1], value)  # the branch is read
