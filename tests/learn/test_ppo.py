"""PPO pieces: GAE (loop vs closed form vs Monte Carlo), segment bookkeeping, the update, rollouts on the real env."""

import dataclasses

import numpy as np
import pytest
import torch
from torch.utils._pytree import tree_leaves

from pokerl_fast import config
from pokerl_fast.learn import ppo
from pokerl_fast.learn.policy import Policy, PolicyConfig
from test_policy import PACKED_SHAPE, RAM_FEATURES, TINY, obs_space, random_obs


def random_gae_inputs(T, N, seed, done_prob=0.1):
    gen = torch.Generator().manual_seed(seed)
    rewards = torch.randn(T, N, generator=gen)
    values = torch.randn(T, N, generator=gen)
    dones = (torch.rand(T, N, generator=gen) < done_prob).float()
    next_value = torch.randn(N, generator=gen)
    next_done = (torch.rand(N, generator=gen) < done_prob).float()
    return rewards, values, dones, next_value, next_done


@pytest.mark.parametrize("seed,done_prob", [(0, 0.0), (1, 0.1), (2, 0.5), (3, 1.0)])
def test_vectorized_gae_equals_reverse_loop(seed, done_prob):
    args = random_gae_inputs(64, 5, seed, done_prob)
    adv_loop, ret_loop = ppo.compute_gae(*args, gamma=0.998, gae_lambda=0.95)
    adv_vec, ret_vec = ppo.compute_gae_vectorized(*args, gamma=0.998, gae_lambda=0.95)
    torch.testing.assert_close(adv_vec, adv_loop, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(ret_vec, ret_loop, rtol=1e-4, atol=1e-4)


def test_gae_with_lambda_one_is_the_discounted_return_minus_value():
    """Independent check: lambda=1 makes GAE the Monte Carlo return (bootstrapped at the end) minus the value."""
    T, N, gamma = 30, 3, 0.9
    rewards, values, dones, next_value, next_done = random_gae_inputs(T, N, seed=5, done_prob=0.15)
    adv, ret = ppo.compute_gae(rewards, values, dones, next_value, next_done, gamma=gamma, gae_lambda=1.0)
    r, d = rewards.numpy(), dones.numpy()
    for n in range(N):
        for t in range(T):
            g, discount, k = 0.0, 1.0, t
            while True:
                g += discount * r[k, n]
                ends = (d[k + 1, n] if k + 1 < T else next_done[n].item()) == 1
                if ends:
                    break
                discount *= gamma
                if k + 1 == T:
                    g += discount * next_value[n].item()
                    break
                k += 1
            assert ret[t, n].item() == pytest.approx(g, rel=1e-4, abs=1e-4)
    torch.testing.assert_close(adv, ret - values)


def test_segments_cut_each_env_into_consecutive_bptt_windows():
    T, N, L = 8, 3, 4
    x = torch.arange(T * N).reshape(T, N)  # value = t * N + n
    seg = ppo._segments(x, L).reshape(L, (T // L) * N)
    for s in range(T // L):
        for n in range(N):
            assert seg[:, s * N + n].tolist() == [(s * L + l) * N + n for l in range(L)]


def test_check_sizes_says_what_to_change():
    with pytest.raises(ValueError, match="multiple of bptt"):
        config.check_sizes(ppo.PPOConfig(num_steps=20, bptt=16), 4)
    with pytest.raises(ValueError, match="num_minibatches"):
        config.check_sizes(ppo.PPOConfig(num_steps=32, bptt=16, num_minibatches=3), 4)


def synthetic_rollout(policy, T=32, N=4, bptt=8, seed=0):
    """A rollout filled by acting with ``policy`` on random observations with random rewards/dones."""
    gen = torch.Generator().manual_seed(seed)
    buf = ppo.Rollout(obs_space(), T, N, policy.config.hidden_size, bptt, "cpu")
    state = policy.initial_state(N)
    torch.manual_seed(seed)
    for t in range(T):
        obs = random_obs((N,), gen)
        done = (torch.rand(N, generator=gen) < 0.05).float()
        for k, v in obs.items():
            buf.obs[k][t] = v
        buf.dones[t] = done
        if t % bptt == 0:
            buf.lstm_h[t // bptt], buf.lstm_c[t // bptt] = state
        action, logprob, value, state = ppo.act(policy, ppo.Carry(obs, done, state))
        buf.actions[t], buf.logprobs[t], buf.values[t] = action, logprob, value
        buf.rewards[t] = torch.randn(N, generator=gen)
    adv, ret = ppo.compute_gae(buf.rewards, buf.values, buf.dones, torch.zeros(N), torch.zeros(N), 0.99, 0.95)
    return buf, ppo.Batch.from_rollout(buf, adv, ret)


def full_batch_loss(policy, batch, cfg):
    with torch.no_grad():
        _, stats = ppo.ppo_loss(policy, batch, cfg)
    return {k: float(v) for k, v in stats.items()}


def test_replaying_segments_from_stored_states_reproduces_the_rollout():
    policy = Policy(RAM_FEATURES, 7, TINY, packed_shape=PACKED_SHAPE)
    _, batch = synthetic_rollout(policy)
    with torch.no_grad():
        logits, values, _ = policy.forward_sequence(batch.obs, (batch.lstm_h, batch.lstm_c), batch.dones)
    logprobs = torch.distributions.Categorical(logits=logits).log_prob(batch.actions)
    torch.testing.assert_close(logprobs, batch.logprobs, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(values, batch.values, rtol=1e-5, atol=1e-5)


def test_the_loss_takes_log_probs_and_entropy_as_torch_categorical_gives_them():
    """The entropy statistic and the clipped policy loss of ppo_loss, recomputed by hand from the policy's logits
    through torch.distributions.Categorical (a perturbed batch: the ratio is not 1)."""
    torch.manual_seed(1)
    policy = Policy(RAM_FEATURES, 7, TINY, packed_shape=PACKED_SHAPE)
    _, batch = synthetic_rollout(policy)
    batch.logprobs.add_(0.05 * torch.randn_like(batch.logprobs))
    cfg = ppo.PPOConfig(num_steps=32, bptt=8, clip_coef=0.1)
    stats = full_batch_loss(policy, batch, cfg)
    with torch.no_grad():
        logits, _, _ = policy.forward_sequence(batch.obs, (batch.lstm_h, batch.lstm_c), batch.dones)
    dist = torch.distributions.Categorical(logits=logits)
    assert stats["entropy"] == pytest.approx(float(dist.entropy().mean()), rel=1e-6)
    ratio = (dist.log_prob(batch.actions) - batch.logprobs).exp()
    adv = (batch.advantages - batch.advantages.mean()) / (batch.advantages.std() + 1e-8)
    pg = torch.max(-adv * ratio, -adv * ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef)).mean()
    assert stats["policy_loss"] == pytest.approx(float(pg), rel=1e-5, abs=1e-7)


def test_one_update_lowers_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    policy = Policy(RAM_FEATURES, 7, TINY, packed_shape=PACKED_SHAPE)
    _, batch = synthetic_rollout(policy)
    cfg = ppo.PPOConfig(num_steps=32, bptt=8, num_minibatches=2, update_epochs=4, learning_rate=1e-3)
    before = full_batch_loss(policy, batch, cfg)
    # ratio is 1 before any update, so the loss is minus the mean normalized advantage: 0
    assert before["policy_loss"] == pytest.approx(0.0, abs=1e-5)
    assert before["approx_kl"] == pytest.approx(0.0, abs=1e-6)
    optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.learning_rate, eps=cfg.adam_eps)
    stats = ppo.ppo_update(policy, optimizer, batch, cfg)
    after = full_batch_loss(policy, batch, cfg)
    assert after["loss"] < before["loss"]
    assert after["policy_loss"] < before["policy_loss"] - 1e-4
    assert after["value_loss"] < before["value_loss"]
    for key in ("policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac", "explained_variance"):
        assert np.isfinite(stats[key]), key
    assert stats["approx_kl"] > 0


def test_one_bf16_update_lowers_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    policy = Policy(RAM_FEATURES, 7, PolicyConfig(**{**TINY.__dict__, "bf16": True}), packed_shape=PACKED_SHAPE)
    _, batch = synthetic_rollout(policy)
    cfg = ppo.PPOConfig(num_steps=32, bptt=8, num_minibatches=2, update_epochs=4, learning_rate=1e-3)
    before = full_batch_loss(policy, batch, cfg)
    optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.learning_rate, eps=cfg.adam_eps)
    stats = ppo.ppo_update(policy, optimizer, batch, cfg)
    after = full_batch_loss(policy, batch, cfg)
    assert after["loss"] < before["loss"]
    assert after["value_loss"] < before["value_loss"]
    assert all(p.dtype == torch.float32 for p in policy.parameters())  # weights stay float32
    assert np.isfinite(stats["policy_loss"]) and np.isfinite(stats["value_loss"])


def test_update_is_reproducible_with_the_same_seed():
    def run():
        torch.manual_seed(0)
        policy = Policy(RAM_FEATURES, 7, TINY, packed_shape=PACKED_SHAPE)
        _, batch = synthetic_rollout(policy)
        cfg = ppo.PPOConfig(num_steps=32, bptt=8, num_minibatches=2)
        opt = torch.optim.Adam(policy.parameters(), lr=cfg.learning_rate)
        return ppo.ppo_update(policy, opt, batch, cfg)

    assert run() == run()


def test_act_draws_what_categorical_draws():
    """act samples without a distribution object: same actions as Categorical(logits).sample() from the same
    RNG state, same log-probabilities, on random logits of all scales."""

    class Logits(torch.nn.Module):
        def forward(self, obs, state, done):
            return obs["logits"], obs["logits"][:, 0], state

    gen = torch.Generator().manual_seed(1)
    for i in range(300):
        logits = torch.randn(16, 7, generator=gen) * (0.1 + 10 * i / 300)
        carry = ppo.Carry({"logits": logits}, torch.zeros(16), (torch.zeros(16, 1), torch.zeros(16, 1)))
        torch.manual_seed(i)
        action, logprob, _, _ = ppo.act(Logits(), carry)
        torch.manual_seed(i)
        dist = torch.distributions.Categorical(logits=logits)
        expected = dist.sample()
        assert torch.equal(action, expected)
        torch.testing.assert_close(logprob, dist.log_prob(expected), rtol=1e-5, atol=1e-5)


def test_batch_and_minibatch_storage_are_refilled_in_place():
    """The trainer's batch and minibatch are allocated once: refilling them gives what fresh copies give
    (the rollout cut into segments; a minibatch picked by plain indexing) without moving their storage."""
    policy = Policy(RAM_FEATURES, 7, TINY, packed_shape=PACKED_SHAPE)
    buf, fresh = synthetic_rollout(policy)
    adv, ret = ppo.compute_gae(buf.rewards, buf.values, buf.dones, torch.zeros(4), torch.zeros(4), 0.99, 0.95)
    batch = ppo.Batch.empty(buf, fresh.num_segments)
    minibatch = ppo.Batch.empty(batch, 3)

    def tensors(b):  # dataclasses.asdict would copy them
        return tree_leaves([getattr(b, f.name) for f in dataclasses.fields(b)])

    def storage(b):
        return [t.data_ptr() for t in tensors(b)]

    where = storage(batch), storage(minibatch)
    for _ in range(2):
        batch.fill(buf, adv, ret)
        for a, b in zip(tensors(batch), tensors(fresh), strict=True):
            assert torch.equal(a, b)
        idx = torch.randperm(batch.num_segments)[:3]
        batch.select(idx, out=minibatch)
        assert torch.equal(minibatch.obs["screen"], fresh.obs["screen"][:, idx])
        assert torch.equal(minibatch.advantages, fresh.advantages[:, idx])
        assert torch.equal(minibatch.lstm_c, fresh.lstm_c[idx])
    assert (storage(batch), storage(minibatch)) == where


@pytest.mark.parametrize("observe_progress", [False, True])
def test_collect_rollout_on_the_real_env_replays_exactly(observe_progress):
    """Rollout bookkeeping on the real env, with episode ends inside the rollout and at segment starts (and with
    the optional "progress" observation stored and replayed like the others)."""
    import pokerl_fast
    from pokerl_fast.run.logger import EpisodeStats

    torch.manual_seed(0)
    N, T, L = 3, 24, 8
    envs = pokerl_fast.make_vec_env(N, seed=0, episode_length=8, num_threads=1, observe_progress=observe_progress)
    try:
        policy = Policy.from_spaces(envs.single_observation_space, envs.single_action_space, TINY)
        assert (policy.progress_mlp is not None) == observe_progress
        obs, _ = envs.reset(seed=0)
        carry = ppo.Carry(ppo.obs_to_torch(obs, "cpu"), torch.zeros(N), policy.initial_state(N))
        buf = ppo.Rollout(envs.single_observation_space, T, N, TINY.hidden_size, L, "cpu")
        stats = EpisodeStats(envs.reward_terms)
        carry_storage = {k: v.data_ptr() for k, v in carry.obs.items()}
        step, global_step = ppo.collect_rollout(policy, envs, buf, carry, 0, stats, 0)
        assert (step, global_step) == (T, T * N)
        assert {k: v.data_ptr() for k, v in carry.obs.items()} == carry_storage  # copied into, not replaced
        for key, tensor in carry.obs.items():  # ... and hold the env's last observation
            assert torch.equal(tensor, torch.from_numpy(envs._obs[key]))
        assert ("progress" in buf.obs) == observe_progress
        # episodes of 8 steps: obs 8 and 16 start new episodes, i.e. exactly at segment starts
        assert buf.dones[:, 0].tolist() == [float(t in (8, 16)) for t in range(T)]
        assert stats.drain()["charts/episodes"] == 3 * N  # ends after steps 8, 16 and 24
        # stored observations are copies, not views of the env's in-place buffers
        assert not torch.equal(buf.obs["screen"][0], buf.obs["screen"][T - 1]) or not torch.equal(
            buf.obs["ram"][0], buf.obs["ram"][T - 1]
        )
        adv, ret = ppo.compute_gae(buf.rewards, buf.values, buf.dones, torch.zeros(N), carry.done, 0.99, 0.95)
        batch = ppo.Batch.from_rollout(buf, adv, ret)
        with torch.no_grad():
            logits, values, _ = policy.forward_sequence(batch.obs, (batch.lstm_h, batch.lstm_c), batch.dones)
        logprobs = torch.distributions.Categorical(logits=logits).log_prob(batch.actions)
        torch.testing.assert_close(logprobs, batch.logprobs, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(values, batch.values, rtol=1e-5, atol=1e-5)
    finally:
        envs.close()
