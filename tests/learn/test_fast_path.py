"""The learner's fast path (PolicyConfig.fast_path: channels-last convolutions, the image unpacked into the compute
dtype, weights cast once per rollout, fused Adam) learns what the plain path learns: on a fixed batch the PPO
losses and every gradient agree within float32 rounding, and within bfloat16's under autocast; a rollout's actions,
log-probabilities and values agree; one fused Adam step moves the weights as the plain one does."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from pokerl_fast.learn import ppo
from pokerl_fast.learn.policy import Policy, PolicyConfig
from test_policy import PACKED_SHAPE, RAM_FEATURES, random_obs
from test_ppo import synthetic_rollout

SMALLISH = PolicyConfig(hidden_size=64, cnn_channels=(8, 16, 16), cnn_features=64, map_embedding=8, ram_hidden=16)
CFG = ppo.PPOConfig(num_steps=32, bptt=8, num_minibatches=2, update_epochs=2, learning_rate=1e-3)


def pair(bf16: bool) -> tuple[Policy, Policy]:
    """(plain, fast) policies with the same weights."""
    torch.manual_seed(0)
    plain = Policy(RAM_FEATURES, 7, dataclasses.replace(SMALLISH, bf16=bf16, fast_path=False), packed_shape=PACKED_SHAPE)
    fast = Policy(RAM_FEATURES, 7, dataclasses.replace(SMALLISH, bf16=bf16, fast_path=True), packed_shape=PACKED_SHAPE)
    fast.load_state_dict(plain.state_dict())
    assert fast.cnn[0].weight.is_contiguous(memory_format=torch.channels_last)
    return plain, fast


def loss_and_grads(policy: Policy, batch: ppo.Batch) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    policy.zero_grad()
    loss, stats = ppo.ppo_loss(policy, batch, CFG)
    loss.backward()
    return {k: float(v) for k, v in stats.items()}, {n: p.grad.clone() for n, p in policy.named_parameters()}


@pytest.mark.parametrize("bf16, tol", [(False, 1e-4), (True, 3e-2)])
def test_losses_and_gradients_on_a_fixed_batch_match_the_plain_path(bf16, tol):
    plain, fast = pair(bf16)
    _, batch = synthetic_rollout(plain, T=32, N=4, bptt=8)
    stats_p, grads_p = loss_and_grads(plain, batch)
    stats_f, grads_f = loss_and_grads(fast, batch)
    for key in ("policy_loss", "value_loss", "entropy", "loss"):
        assert stats_f[key] == pytest.approx(stats_p[key], rel=tol, abs=tol), key
    for name, g in grads_p.items():
        scale = g.abs().max().item() + 1e-12
        assert (grads_f[name] - g).abs().max().item() <= tol * scale * 10, name  # per tensor, relative to its size
        if g.abs().max() > 0:
            cos = torch.nn.functional.cosine_similarity(g.flatten(), grads_f[name].flatten(), dim=0).item()
            assert cos > 1 - tol, name
    if not bf16:
        assert stats_f["loss"] == pytest.approx(stats_p["loss"], rel=1e-5)


@pytest.mark.parametrize("bf16", [False, True])
def test_a_rollout_under_the_acting_context_acts_as_step_by_step(bf16):
    plain, fast = pair(bf16)
    gen = torch.Generator().manual_seed(3)
    obs = random_obs((4,), gen)
    carry = lambda: ppo.Carry(obs, torch.zeros(4), plain.initial_state(4))  # noqa: E731
    torch.manual_seed(1)
    a = [ppo.act(plain, carry()) for _ in range(3)]
    torch.manual_seed(1)
    with fast.acting("cpu"):
        b = [ppo.act(fast, carry()) for _ in range(3)]
    for (act_a, lp_a, v_a, _), (act_b, lp_b, v_b, _) in zip(a, b):
        tol = 3e-2 if bf16 else 1e-5
        torch.testing.assert_close(lp_b, lp_a, rtol=tol, atol=tol)
        torch.testing.assert_close(v_b, v_a, rtol=tol, atol=tol)
    if not bf16:  # same logits to float rounding: the same draws
        assert all(torch.equal(x[0], y[0]) for x, y in zip(a, b))


def test_fused_adam_moves_the_weights_as_plain_adam():
    plain, fast = pair(False)
    _, batch = synthetic_rollout(plain, T=32, N=4, bptt=8)
    opts = (torch.optim.Adam(plain.parameters(), lr=1e-3, eps=1e-5),
            torch.optim.Adam(fast.parameters(), lr=1e-3, eps=1e-5, fused=True))
    for policy, opt in zip((plain, fast), opts):
        for _ in range(3):
            loss_and_grads(policy, batch)
            opt.step()
    for (name, p), q in zip(plain.named_parameters(), fast.parameters()):
        torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-5, msg=name)


def test_the_trainer_builds_a_fused_adam_on_the_fast_path_only():
    from pokerl_fast.config import TrainConfig
    from pokerl_fast.run.learner import new_optimizer

    plain, fast = pair(False)
    cfg = TrainConfig()
    assert new_optimizer(fast, cfg).defaults["fused"]
    off = dataclasses.replace(cfg, policy=dataclasses.replace(cfg.policy, fast_path=False))
    assert not new_optimizer(plain, off).defaults["fused"]


def test_a_resumed_fused_adam_keeps_stepping_as_the_uninterrupted_one():
    """A checkpoint stores tensors contiguous: the channels-last convolutions' Adam moments come back NCHW. Loaded
    through run/state.load_optimizer_state they are laid out as their weights again, and the next steps agree
    exactly with the run that never stopped (the fused kernel walks the tensors in memory order)."""
    from pokerl_fast.run.state import load_optimizer_state

    _, a = pair(False)
    _, b = pair(False)
    _, batch = synthetic_rollout(a, T=32, N=4, bptt=8)
    opt_a = torch.optim.Adam(a.parameters(), lr=1e-3, fused=True)
    opt_b = torch.optim.Adam(b.parameters(), lr=1e-3, fused=True)
    for policy, opt in ((a, opt_a), (b, opt_b)):
        loss_and_grads(policy, batch)
        opt.step()
    saved = opt_b.state_dict()
    for state in saved["state"].values():  # as safetensors gives them back
        for key, value in state.items():
            state[key] = value.contiguous()
    opt_b = torch.optim.Adam(b.parameters(), lr=1e-3, fused=True)
    load_optimizer_state(opt_b, saved)
    conv = b.cnn[0].weight
    assert opt_b.state[conv]["exp_avg"].stride() == conv.stride() != conv.contiguous().stride()
    for policy, opt in ((a, opt_a), (b, opt_b)):
        for _ in range(2):
            loss_and_grads(policy, batch)
            opt.step()
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q), name


@pytest.mark.parametrize("rows", [72, 13, 9])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("native", [True, False])
def test_image_blocks_hold_the_unpacked_pixels_block_by_block(rows, dtype, native):
    """The fast path's image (native: csrc/blocks.h; else torch's lookup table, as on a GPU) gives, for every 4x4
    block and channel dy*8 + c*4 + dx, pixel (4Y+dy, 4X+dx) of image c divided by 3 in the compute dtype, as the
    per-pixel reference unpacks it; rows past the last whole block are dropped."""
    import numpy as np

    from pokerl_fast.learn.policy import image_blocks, unpack_2bit_reference

    gen = np.random.default_rng(rows)
    screen, visited = (gen.integers(0, 256, (70, rows, 5), dtype=np.uint8) for _ in range(2))  # 70: threaded
    blocks = image_blocks(torch.from_numpy(screen), torch.from_numpy(visited), dtype, native=native)
    assert blocks.shape == (70, 32, rows // 4, 5) and blocks.dtype == dtype
    assert blocks.is_contiguous(memory_format=torch.channels_last)
    part = image_blocks(torch.from_numpy(screen), torch.from_numpy(visited), dtype, (rows // 4 - 1, 3), native=native)
    assert part.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(part, blocks[:, :, : rows // 4 - 1, :3])  # an extent makes the first blocks only
    images = torch.from_numpy(np.stack((unpack_2bit_reference(screen), unpack_2bit_reference(visited)), axis=1))
    images = images.to(dtype).mul_(1.0 / 3.0)  # the plain path's image, rounded as it rounds
    for dy in range(4):
        for c in range(2):
            for dx in range(4):
                want = images[:, c, dy : 4 * (rows // 4) : 4, dx::4]
                assert torch.equal(blocks[:, dy * 8 + c * 4 + dx], want), (dy, c, dx)


def world_images(num_envs: int, steps: int, seed: int):
    """The (screen, visited) observations of ``num_envs`` test-world envs over ``steps`` random steps, stacked."""
    import numpy as np

    import pokerl_fast

    envs = pokerl_fast.make_vec_env(num_envs, seed=seed)
    try:
        envs.reset(seed=seed)
        rng = np.random.default_rng(seed)
        screens, visits = [], []
        for _ in range(steps):
            obs, *_ = envs.step(rng.integers(0, envs.single_action_space.n, num_envs))
            screens.append(obs["screen"].copy())
            visits.append(obs["visited"].copy())
    finally:
        envs.close()
    return np.concatenate(screens), np.concatenate(visits)


def test_image_blocks_of_real_observations_agree_native_and_reference():
    """On the test world's own screens (a few hundred random steps), native blocks equal the reference's."""
    import numpy as np

    from pokerl_fast.learn.policy import image_blocks, unpack_2bit_reference

    screen, visited = world_images(4, 200, seed=0)
    assert len(np.unique(screen)) > 4 and visited.any()
    blocks = image_blocks(torch.from_numpy(screen), torch.from_numpy(visited), torch.float32)
    images = np.stack((unpack_2bit_reference(screen), unpack_2bit_reference(visited)), axis=1)
    n, _, rows, cols = images.shape
    want = images.reshape(n, 2, rows // 4, 4, cols // 4, 4).transpose(0, 3, 1, 5, 2, 4).reshape(n, 32, rows // 4, -1)
    np.testing.assert_array_equal(blocks.numpy(), torch.from_numpy(want).float().mul_(1.0 / 3.0).numpy())


def test_the_2x2_convolution_over_blocks_equals_the_8x8_stride_4_one():
    from pokerl_fast.learn.policy import block_weight

    gen = torch.Generator().manual_seed(0)
    image = torch.randn(4, 2, 36, 48, generator=gen)
    weight, bias = torch.randn(6, 2, 8, 8, generator=gen), torch.randn(6, generator=gen)
    blocks = image.reshape(4, 2, 9, 4, 12, 4).permute(0, 3, 1, 5, 2, 4).reshape(4, 32, 9, 12)
    torch.testing.assert_close(torch.nn.functional.conv2d(blocks, block_weight(weight), bias),
                               torch.nn.functional.conv2d(image, weight, bias, stride=4), rtol=1e-4, atol=1e-4)


def _repeating(n: int, distinct: int, seed: int, shape=PACKED_SHAPE):
    """n (screen, visited) pairs drawn from ``distinct`` images, some differing only in visited or in one byte."""
    import numpy as np

    gen = np.random.default_rng(seed)
    screens = gen.integers(0, 256, (distinct,) + shape, dtype=np.uint8)
    visits = gen.integers(0, 256, (distinct,) + shape, dtype=np.uint8)
    visits[1] = visits[0]
    screens[1] = screens[0]
    screens[1, -1, -1] ^= 1  # one byte apart from image 0
    visits[2], screens[2] = visits[0] ^ 3, screens[0]  # the same screen, another visited mask
    pick = gen.integers(0, distinct, n)
    return screens[pick], visits[pick]


@pytest.mark.parametrize("n, distinct", [(1, 3), (97, 5), (512, 60), (300, 300)])
def test_unique_images_native_agrees_with_the_reference(n, distinct):
    import numpy as np

    from pokerl_fast._native import _core
    from pokerl_fast.learn.policy import unique_images_reference

    screen, visited = _repeating(n, distinct, seed=n)
    first, inverse = _core.unique_images(screen, visited)
    want_first, want_inverse = unique_images_reference(screen, visited)
    np.testing.assert_array_equal(first, want_first)
    np.testing.assert_array_equal(inverse, want_inverse)
    np.testing.assert_array_equal(screen[first][inverse], screen)
    np.testing.assert_array_equal(visited[first][inverse], visited)


def test_unique_images_of_real_observations_agree_with_the_reference():
    import numpy as np

    from pokerl_fast._native import _core
    from pokerl_fast.learn.policy import unique_images_reference

    screen, visited = world_images(8, 64, seed=1)
    first, inverse = _core.unique_images(screen, visited)
    want = unique_images_reference(screen, visited)
    np.testing.assert_array_equal(first, want[0])
    np.testing.assert_array_equal(inverse, want[1])
    assert 1 < len(first) < len(screen)  # the random walk repeats images: the case this is for


@pytest.mark.parametrize("bf16, tol", [(False, 1e-4), (True, 3e-2)])
def test_a_minibatch_of_repeated_images_learns_as_the_plain_path(bf16, tol):
    """A minibatch of 2 x 64 steps whose images repeat (the CNN runs once per distinct image, padded to a bucket):
    the losses and every gradient agree with the plain path, which runs the CNN on every sample."""
    from pokerl_fast.learn.policy import DISTINCT_MIN_BATCH

    plain, fast = pair(bf16)
    _, batch = synthetic_rollout(plain, T=64, N=2, bptt=64)
    n = batch.dones.numel()
    assert n >= DISTINCT_MIN_BATCH
    screen, visited = _repeating(n, 20, seed=7)
    batch.obs["screen"].copy_(torch.from_numpy(screen).reshape(batch.obs["screen"].shape))
    batch.obs["visited"].copy_(torch.from_numpy(visited).reshape(batch.obs["visited"].shape))
    stats_p, grads_p = loss_and_grads(plain, batch)
    fast.image_counts[:] = [0, 0]
    stats_f, grads_f = loss_and_grads(fast, batch)
    assert fast.image_counts == [n, 20]
    for key in ("policy_loss", "value_loss", "entropy", "loss"):
        assert stats_f[key] == pytest.approx(stats_p[key], rel=tol, abs=tol), key
    for name, g in grads_p.items():
        scale = g.abs().max().item() + 1e-12
        assert (grads_f[name] - g).abs().max().item() <= tol * scale * 10, name
