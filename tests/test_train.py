"""The training CLI end to end: config layering, runs as a subprocess, checkpoints, kill + resume, exact resume."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file

import support

from pokerl_fast import cli, runtime
from pokerl_fast.watch.video import CAPTION_H
from pokerl_fast.learn import checkpoint
from pokerl_fast.config import TrainConfig
from pokerl_fast.run.checks import TrainError, check_resume
from pokerl_fast.run.cli import config_from_args
from pokerl_fast.run.logger import EpisodeStats

# A tiny, fast run: 2 envs x 16 steps per rollout, a small network, one torch thread.
TINY_FLAGS = [
    "--num-envs", "2", "--num-steps", "16", "--bptt", "8", "--num-minibatches", "2", "--update-epochs", "2",
    "--hidden-size", "32", "--cnn-channels", "4", "8", "8", "--cnn-features", "32", "--map-embedding", "4",
    "--ram-hidden", "16", "--torch-threads", "1", "--num-threads", "1", "--episode-length", "40",
    "--device", "cpu", "--no-progress",
]  # fmt: skip
BATCH = 2 * 16
PLAIN_ENV = ["--swarm-interval", "0", "--reset-to-archive", "0", "--explore-reset-interval", "0", "--explore-boost", "1",
             "--no-observe-progress", "--stuck-steps", "0", "--no-stuck-ends-episode"]
"""The env as EnvConfig() has it: every progress mechanism off (the trainer's defaults turn them on)."""


# --- config and CLI (no emulator) -------------------------------------------------------------------------------


def test_help_lists_every_option(capsys):
    """The trainer's own --help (tests/test_flags.py holds every field's docstring against it)."""
    with pytest.raises(SystemExit) as done:
        config_from_args(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for path, spellings in cli.flag_names(TrainConfig).items():
        assert spellings[-1] in text, path
    for flag in ("--num-envs", "--total-steps", "--run-dir", "--resume", "--seed", "--device", "--rom", "--config",
                 "--gamma", "--env.frames-per-step", "--env.reward.badges", "--hidden-size", "--wandb"):
        assert flag in text, flag


def test_help_runs_as_a_module():
    out = subprocess.run([sys.executable, "-m", "pokerl_fast.train", "--help"], capture_output=True, text=True,
                         check=True, timeout=120)
    assert "--total-steps" in out.stdout and "discount factor" in out.stdout


def test_defaults_and_derived_sizes():
    cfg = TrainConfig()
    assert (cfg.ppo.gamma, cfg.ppo.gae_lambda, cfg.ppo.learning_rate, cfg.ppo.clip_coef) == (0.998, 0.95, 2e-4, 0.1)
    assert (cfg.ppo.ent_coef, cfg.ppo.vf_coef, cfg.ppo.max_grad_norm, cfg.ppo.update_epochs, cfg.ppo.bptt) == (
        0.01, 0.5, 0.5, 3, 16)
    assert cfg.batch_size == cfg.num_envs * cfg.ppo.num_steps
    assert cfg.minibatch_size * cfg.ppo.num_minibatches == cfg.batch_size
    assert cfg.num_iterations * cfg.batch_size >= cfg.total_steps
    assert cfg.env.rom is None  # the bundled test world
    cfg.validate()


def test_yaml_then_flags_layering(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"num_envs": 4, "ppo": {"gamma": 0.9, "num_steps": 64},
                                    "env": {"reward": {"badges": 1.5}, "seed": 3}}))
    cfg, ckpt = config_from_args(["--config", str(path), "--gamma", "0.95", "--env.reward.explore", "0.5",
                                  "--no-norm-adv", "--cnn-channels", "1", "2", "3", "--target-kl", "0.02"])
    assert ckpt is None
    assert (cfg.num_envs, cfg.ppo.num_steps, cfg.ppo.gamma) == (4, 64, 0.95)
    assert (cfg.env.reward.badges, cfg.env.reward.explore, cfg.env.seed) == (1.5, 0.5, 3)
    assert cfg.ppo.norm_adv is False and cfg.policy.cnn_channels == (1, 2, 3) and cfg.ppo.target_kl == 0.02
    assert cfg.ppo.learning_rate == 2e-4  # untouched default


def test_resolved_config_round_trips_through_yaml():
    cfg, _ = config_from_args(["--seed", "5", "--ppo.learning-rate", "3e-4", "--rom", "x.gb"])
    again = cli.merge(TrainConfig(), yaml.safe_load(cli.dump_yaml(cfg)))
    assert again == cfg


@pytest.mark.parametrize("content,message", [
    ({"ppo": {"gama": 0.9}}, "unknown field 'gama'"),
    ({"num_envs": "many"}, "num_envs: expected an integer"),
    ({"device": "tpu"}, "'tpu' is not one of auto, cpu, cuda"),
    ({"policy": {"cnn_channels": [1, 2]}}, "expected 3 values"),
])
def test_bad_config_values_give_one_clear_line(tmp_path, content, message):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(cli.ConfigError, match=message) as err:
        config_from_args(["--config", str(path)])
    assert "\n" not in str(err.value)


def test_missing_config_file_is_one_line():
    with pytest.raises(cli.ConfigError, match="does not exist"):
        config_from_args(["--config", "/nonexistent/c.yaml"])


def test_resume_refuses_changed_fields_but_allows_a_longer_run():
    saved = cli.to_dict(TrainConfig())
    check_resume(saved, cli.to_dict(TrainConfig(total_steps=10**9, device="cpu")), "runs/x")
    with pytest.raises(TrainError, match=r"num_envs=16, this run asks 8; drop that option") as err:
        check_resume(saved, cli.to_dict(TrainConfig(num_envs=8)), "runs/x")
    assert "\n" not in str(err.value)
    # A run saved before a field existed resumes with today's default; the field then counts as it was.
    older = cli.to_dict(TrainConfig())
    del older["env"]["revisit_half_life"]
    check_resume(older, cli.to_dict(TrainConfig()), "runs/x")
    with pytest.raises(TrainError, match="num_envs"):
        check_resume(older, cli.to_dict(TrainConfig(num_envs=8)), "runs/x")


def test_episode_stats_means_milestones_and_first_steps(tmp_path):
    stats = EpisodeStats(("explore", "events"))
    zeros = np.zeros(2, np.int32)

    def info(events_now, badges_now, ended=None, **final):
        out = {"events": np.array(events_now), "required_events": zeros, "badges": np.array(badges_now),
               "reward/explore": np.array([0.5, 1.0]), "reward/events": np.array([0.0, 2.0])}
        if ended is not None:
            out.update({"_episode": np.array(ended), "episode_return": np.array([1.0, 3.0]),
                        "episode_length": np.array([10, 10]), "final": final})
        return out

    stats.record(np.zeros(2), info([0, 1], [0, 0]), 2)
    stats.record(np.zeros(2), info([3, 1], [0, 1]), 4)
    # at an episode end the top-level arrays already show the reset episode; "final" holds the ended one
    stats.record(np.zeros(2), info([0, 0], [0, 0], ended=[False, True], events=np.array([3, 4]),
                                   badges=np.array([0, 1])), 6)
    out = stats.drain()
    assert out["charts/episodic_return"] == 3.0 and out["charts/episodes"] == 1
    assert out["episode/events"] == 4.0 and out["episode/badges"] == 1.0
    assert out["milestones/events"] == 4 and out["milestones/badges"] == 1
    assert out["milestones/events_first_step/1"] == 2 and out["milestones/events_first_step/3"] == 4
    assert out["milestones/events_first_step/4"] == 6 and out["milestones/badges_first_step/1"] == 4
    assert "reward/explore" in out and "reward/events" in out
    again = stats.drain()
    assert "charts/episodic_return" not in again and "milestones/events_first_step/1" not in again
    restored = EpisodeStats(("explore", "events"))
    restored.load_state_dict(checkpoint.load(checkpoint.save(tmp_path, 1, {"s": stats.state_dict()}, {}))["s"])
    assert restored.best == stats.best and restored.first_step == stats.first_step


# --- real runs on the bundled test world ------------------------------------------------------------------------


def run_cli(args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pokerl_fast.train", *args], capture_output=True, text=True,
                          timeout=timeout)


def start_cli(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pokerl_fast.train", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_checkpoint(run_dir: Path, proc: subprocess.Popen, min_step: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        steps = [c.step for c in checkpoint.list_checkpoints(run_dir / "checkpoints")]
        if steps and max(steps) >= min_step:
            return max(steps)
        if proc.poll() is not None:
            raise AssertionError(f"trainer exited early ({proc.returncode}): {proc.stderr.read()[-2000:]}")
        time.sleep(0.02)
    raise AssertionError("no checkpoint appeared in time")


def tb_scalars(run_dir: Path, prefix: str = "") -> dict[str, dict[int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: {e.step: e.value for e in acc.Scalars(tag)}
            for tag in acc.Tags()["scalars"] if tag.startswith(prefix)}


def test_short_run_writes_config_checkpoint_and_tensorboard(tmp_path):
    run_dir = tmp_path / "run"
    out = run_cli(["--run-dir", str(run_dir), "--total-steps", str(8 * BATCH), "--seed", "3", *TINY_FLAGS])
    assert out.returncode == 0, out.stderr[-3000:]
    assert "21,260 parameters" in out.stdout or "parameters" in out.stdout
    assert "mechanisms: episodes of" in out.stdout  # the run says which progress mechanisms are on
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["num_envs"] == 2 and saved["env"]["seed"] == 3 and saved["policy"]["hidden_size"] == 32
    # the precision the hardware runs, chosen at the start, said in the first lines and kept as chosen
    assert saved["policy"]["bf16"] is runtime.cpu_runs_bf16()
    assert ("precision: bfloat16 autocast" if saved["policy"]["bf16"] else "precision: float32") in out.stdout
    ckpt = checkpoint.latest(run_dir / "checkpoints")
    assert ckpt.step == 8 * BATCH
    assert ckpt.meta["rom_sha1"] and ckpt.meta["version"] and ckpt.meta["config"]["env"]["seed"] == 3
    snap = checkpoint.load(ckpt)
    assert snap["counters"] == {"global_step": 8 * BATCH, "iteration": 8, "rollout_step": 0}
    assert len(snap["env"]["emulator_states"]) == 2
    tags = tb_scalars(run_dir)
    for name in ("charts/SPS", "charts/episodic_return", "losses/policy_loss", "losses/value_loss", "losses/entropy",
                 "losses/approx_kl", "losses/clipfrac", "losses/explained_variance", "reward/explore",
                 "milestones/events", "milestones/required_events", "milestones/badges"):
        assert name in tags, name
    assert sorted(tags["losses/value_loss"]) == [BATCH * i for i in range(1, 9)]
    assert all(np.isfinite(v) for v in tags["losses/policy_loss"].values())
    from PIL import Image as PILImage

    with PILImage.open(run_dir / "progress.png") as png:  # the learning as a picture, written at the end
        assert png.size[0] == 1000 and png.size[1] >= 100
    # The explored map: Kanto painted from the envs' screens (the trainer's default), cropped to the start rooms,
    # with the Game Boy's shades in it and a legend strip below.
    from PIL import Image

    from pokerl_fast.watch.kanto_map import SHADES, UNVISITED

    picture = np.asarray(Image.open(run_dir / "explored_map.png").convert("RGB"))
    assert 40 < picture.shape[0] < 444 * 8 and 40 < picture.shape[1] < 436 * 8 and picture.shape[2] == 3
    colours = {tuple(c) for c in picture.reshape(-1, 3)}
    assert tuple(UNVISITED) in colours and sum(tuple(c) in colours for c in SHADES) >= 2


def test_named_milestones_are_printed_and_logged_once_with_their_first_step(tmp_path):
    """An untrained policy walks into the test world's first event tiles within a few thousand steps."""
    run_dir = tmp_path / "run"
    flags = list(TINY_FLAGS)
    flags[flags.index("--num-envs") + 1] = "8"
    flags[flags.index("--episode-length") + 1] = "1000"
    flags += PLAIN_ENV  # what an untrained policy stumbles into, without the mechanisms moving or ending its episodes
    out = run_cli(["--run-dir", str(run_dir), "--total-steps", "8192", "--seed", "0", *flags])
    assert out.returncode == 0, out.stderr[-3000:]
    printed = {}
    for line in out.stdout.splitlines():
        if line.startswith("milestone "):
            _, name, *_, step = line.split()
            assert name not in printed, f"{name} reported twice"
            printed[name] = int(step)
    assert printed, out.stdout
    tags = tb_scalars(run_dir, "milestones/first_step/")
    assert set(tags) == {f"milestones/first_step/{n}" for n in printed}
    for name, step in printed.items():
        (value,) = tags[f"milestones/first_step/{name}"].values()
        assert value == step and 0 < step <= 8192


def test_sigkill_then_resume_continues_step_counters(tmp_path):
    run_dir = tmp_path / "run"
    proc = start_cli(["--run-dir", str(run_dir), "--total-steps", str(10_000 * BATCH), "--checkpoint-iterations", "2",
                      *TINY_FLAGS])
    try:
        wait_for_checkpoint(run_dir, proc, 4 * BATCH)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
    last = checkpoint.latest(run_dir / "checkpoints")
    assert last.step >= 4 * BATCH and last.step % (2 * BATCH) == 0
    # a writer killed mid-checkpoint leaves a temp dir: it must be ignored and cleaned up
    leftover = run_dir / "checkpoints" / f"{checkpoint.TMP_PREFIX}999999999999-1"
    leftover.mkdir(exist_ok=True)
    (leftover / "manifest.json").write_text("{}")
    out = run_cli(["--resume", str(run_dir), "--total-steps", str(last.step + 4 * BATCH)])
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"resumed at step {last.step}" in out.stdout
    assert not leftover.exists()
    final = checkpoint.latest(run_dir / "checkpoints")
    assert final.step == last.step + 4 * BATCH
    assert checkpoint.load(final)["counters"]["iteration"] == last.step // BATCH + 4
    # TensorBoard: the resumed part continues at the checkpoint's step
    steps = sorted(tb_scalars(run_dir, "losses/value_loss")["losses/value_loss"])
    assert steps[-4:] == [last.step + BATCH * i for i in range(1, 5)]


def test_resume_refuses_another_rom_or_a_changed_config_with_one_line(tmp_path):
    run_dir = tmp_path / "run"
    out = run_cli(["--run-dir", str(run_dir), "--total-steps", str(BATCH), *TINY_FLAGS])
    assert out.returncode == 0, out.stderr[-3000:]
    out = run_cli(["--resume", str(run_dir), "--num-envs", "4"])
    assert out.returncode == 2
    err = out.stderr.strip().splitlines()[-1]
    assert err.startswith("error: cannot resume") and "num_envs=2, this run asks 4" in err
    ckpt = checkpoint.latest(run_dir / "checkpoints")
    manifest = json.loads((ckpt.path / "manifest.json").read_text())
    manifest["meta"]["rom_sha1"] = "0" * 40  # as if made with another ROM: the manifest's own hash follows
    manifest["sha256"] = checkpoint._manifest_sha256({k: v for k, v in manifest.items() if k != "sha256"})
    (ckpt.path / "manifest.json").write_text(json.dumps(manifest))
    out = run_cli(["--resume", str(run_dir), "--total-steps", str(2 * BATCH)])
    assert out.returncode == 2
    err = out.stderr.strip().splitlines()[-1]
    assert "ROM sha1 " + "0" * 40 in err and "pass the ROM the run was trained on" in err
    out = run_cli(["--resume", str(tmp_path / "nothing-here")])
    assert out.returncode == 2 and "no such run dir" in out.stderr


def losses(run_dir: Path) -> dict[str, dict[int, float]]:
    return tb_scalars(run_dir, "losses/")


def weights_by_step(run_dir: Path) -> dict[int, dict]:
    return {c.step: checkpoint.load(c)["policy"] for c in checkpoint.list_checkpoints(run_dir / "checkpoints")}


DETERMINISTIC = [*TINY_FLAGS, "--deterministic", "--seed", "7", "--episode-length", "24", "--keep-checkpoints", "0",
                 "--checkpoint-iterations", "1"]
ITERATIONS = 6


def uninterrupted_run(tmp_path_factory, name: str, flags: list[str]) -> Path:
    """A run of ITERATIONS updates with ``flags``, not stopped, in a fresh temporary dir."""
    run_dir = tmp_path_factory.mktemp(name) / "run"
    out = run_cli(["--run-dir", str(run_dir), "--total-steps", str(ITERATIONS * BATCH), *flags])
    assert out.returncode == 0, out.stderr[-3000:]
    return run_dir


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory) -> Path:
    """An uninterrupted deterministic run, checkpointed after every update."""
    return uninterrupted_run(tmp_path_factory, "reference", DETERMINISTIC)


def assert_same_run(reference: Path, resumed: Path) -> None:
    expected, got = losses(reference), losses(resumed)
    assert sorted(expected["losses/policy_loss"]) == [BATCH * i for i in range(1, ITERATIONS + 1)]
    assert got == expected
    ref_weights, weights = weights_by_step(reference), weights_by_step(resumed)
    for step in range(BATCH, (ITERATIONS + 1) * BATCH, BATCH):
        for name, tensor in ref_weights[step].items():
            assert torch.equal(weights[step][name], tensor), (step, name)
    # the run-wide progress account is checkpointed: a stopped and resumed run ends with the same one
    expected_progress = json.loads((reference / "progress.json").read_text())["progress"]
    assert json.loads((resumed / "progress.json").read_text())["progress"] == expected_progress
    assert expected_progress["env_steps"] == ITERATIONS * BATCH


def test_sigterm_then_resume_reproduces_the_uninterrupted_run(tmp_path, reference_run):
    split = tmp_path / "split"
    proc = start_cli(["--run-dir", str(split), "--total-steps", str(ITERATIONS * BATCH), *DETERMINISTIC])
    wait_for_checkpoint(split, proc, BATCH)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr[-3000:]
    stopped = checkpoint.latest(split / "checkpoints").step
    assert stopped < ITERATIONS * BATCH, "the run finished before SIGTERM arrived; nothing was resumed"
    assert "SIGTERM" in stdout and "--resume" in stdout
    stopped_report = json.loads((split / "progress.json").read_text())  # written when stopped, too
    assert stopped_report["global_step"] == stopped and stopped_report["progress"]["env_steps"] == stopped
    assert "run progress:" in stdout
    out = run_cli(["--resume", str(split)])
    assert out.returncode == 0, out.stderr[-3000:]
    assert_same_run(reference_run, split)


STOP_MID_ROLLOUT = """
import sys
from pokerl_fast.run.cli import config_from_args
from pokerl_fast.run.train import train

class StopAfter:  # set after n checks; the rollout checks once per env step
    def __init__(self, n):
        self.n = n
    def is_set(self):
        self.n -= 1
        return self.n < 0

cfg, _ = config_from_args(sys.argv[2:])
summary = train(cfg, stop=StopAfter(int(sys.argv[1])))
print("STOPPED", summary["global_step"], summary["stopped"])
"""


def stop_mid_rollout(split: Path, checks: int, flags: list[str]) -> int:
    """A run into ``split`` stopped after ``checks`` stop checks, inside a rollout; returns its global step."""
    args = ["--run-dir", str(split), "--total-steps", str(ITERATIONS * BATCH), *flags]
    out = subprocess.run([sys.executable, "-c", STOP_MID_ROLLOUT, str(checks), *args], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    step, stopped = out.stdout.split("STOPPED")[1].split()
    assert stopped == "True" and int(step) % BATCH != 0, f"stopped at {step}: not inside a rollout"
    return int(step)


@pytest.mark.parametrize("checks", [20, 45])
def test_stop_mid_rollout_then_resume_is_bit_exact(tmp_path, reference_run, checks):
    split = tmp_path / "split"
    step = stop_mid_rollout(split, checks, DETERMINISTIC)
    snap = checkpoint.load(checkpoint.latest(split / "checkpoints"))
    assert snap["counters"]["rollout_step"] * 2 == step % BATCH and snap["rollout"]
    out = run_cli(["--resume", str(split)])
    assert out.returncode == 0, out.stderr[-3000:]
    assert_same_run(reference_run, split)


def test_resume_at_an_update_boundary_is_bit_exact(tmp_path, reference_run):
    split = tmp_path / "split"
    out = run_cli(["--run-dir", str(split), "--total-steps", str(2 * BATCH), *DETERMINISTIC])
    assert out.returncode == 0, out.stderr[-3000:]
    out = run_cli(["--resume", str(split), "--total-steps", str(ITERATIONS * BATCH)])
    assert out.returncode == 0, out.stderr[-3000:]
    assert_same_run(reference_run, split)


# --- crash-proof: damage, a full disk, SIGKILL at random moments ------------------------------------------------


def copy_newest_checkpoints(run_dir: Path, to: Path, n: int = 2) -> Path:
    """A run dir holding copies of ``run_dir``'s newest ``n`` checkpoints (the original stays untouched)."""
    (to / "checkpoints").mkdir(parents=True)
    for c in checkpoint.list_checkpoints(run_dir / "checkpoints")[-n:]:
        shutil.copytree(c.path, to / "checkpoints" / c.path.name)
    return to


def flip_a_byte(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))


def replace_by_file(p: Path) -> None:
    shutil.rmtree(p)
    p.write_text("not a checkpoint")


RESUME_DAMAGE = {
    "tensors.safetensors does not match its hash (damaged)": lambda d: flip_a_byte(d / "tensors.safetensors"),
    "arrays/0.npy has 64 bytes, not the": lambda d: (d / "arrays/0.npy").write_bytes(bytes(64)),
    "blobs/1.bin is missing (damaged)": lambda d: (d / "blobs/1.bin").unlink(),
    "tree.json does not match its hash (damaged)": lambda d: flip_a_byte(d / "tree.json"),
    "manifest.json is not valid JSON (damaged)": lambda d: (d / "manifest.json").write_text("garbage"),
    "manifest.json is not a JSON object (damaged)": lambda d: (d / "manifest.json").write_text('"files"'),
    "manifest.json does not match its own hash (damaged)": lambda d: (d / "manifest.json").write_text(
        (d / "manifest.json").read_text().replace('"num_envs": 2', '"num_envs": 3')),
    "stray.txt is not in the manifest (damaged)": lambda d: (d / "stray.txt").write_text(""),
    "is not a directory (damaged)": replace_by_file,
}


def test_resume_skips_any_damage_to_the_newest_checkpoint_with_one_line(tmp_path, reference_run, capfd):
    for i, (reason, damage) in enumerate(RESUME_DAMAGE.items()):
        run_dir = copy_newest_checkpoints(reference_run, tmp_path / str(i))
        newest = run_dir / "checkpoints" / checkpoint.checkpoint_name(ITERATIONS * BATCH)
        damage(newest)
        _, ckpt = config_from_args(["--resume", str(run_dir)])
        assert ckpt.step == (ITERATIONS - 1) * BATCH
        out, err = capfd.readouterr()
        line, = err.splitlines()
        assert line.startswith(f"skipping checkpoint {newest}: {reason}"), line
        assert line.endswith(f"; resuming from ckpt-{(ITERATIONS - 1) * BATCH:012d}"), line


def test_the_cli_resumes_past_a_garbage_manifest_and_refuses_when_none_is_valid(tmp_path, reference_run):
    run_dir = copy_newest_checkpoints(reference_run, tmp_path / "run")
    newest = run_dir / "checkpoints" / checkpoint.checkpoint_name(ITERATIONS * BATCH)
    (newest / "manifest.json").write_text("{garbage")
    out = run_cli(["--resume", str(run_dir)])
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stderr.splitlines() == [  # one plain line: no warning source line, no traceback
        f"skipping checkpoint {newest}: manifest.json is not valid JSON (damaged); "
        f"resuming from ckpt-{(ITERATIONS - 1) * BATCH:012d}"]
    assert f"resumed at step {(ITERATIONS - 1) * BATCH}" in out.stdout
    # the damaged one is set aside (never loaded or pruned again) and the last update is redone, bit for bit
    assert (run_dir / "checkpoints" / f"damaged-{newest.name}" / "manifest.json").read_text() == "{garbage"
    final = checkpoint.latest(run_dir / "checkpoints")
    assert final.step == ITERATIONS * BATCH and final.meta["iteration"] == ITERATIONS
    ref = load_file(str(reference_run / "checkpoints" / newest.name / "tensors.safetensors"))
    got = load_file(str(final.path / "tensors.safetensors"))
    assert got.keys() == ref.keys() and all(torch.equal(got[k], ref[k]) for k in ref)

    for c in checkpoint.list_checkpoints(run_dir / "checkpoints"):
        flip_a_byte(c.path / "tensors.safetensors")
    out = run_cli(["--resume", str(run_dir)])
    assert out.returncode == 2
    line, = out.stderr.splitlines()
    assert line.startswith(f"error: cannot resume {run_dir}: no valid checkpoint in {run_dir / 'checkpoints'} "
                           f"(skipped 2; the newest, checkpoint {newest}: tensors.safetensors does not match"), line


def run_patched(script: str, run_dir: Path, steps: int, *flags: str) -> subprocess.CompletedProcess:
    """The trainer's main() in a subprocess after ``script`` patched it (a fault to inject), on the tiny config."""
    return subprocess.run([sys.executable, "-c", script, "--run-dir", str(run_dir), "--total-steps", str(steps),
                           *flags, *TINY_FLAGS], capture_output=True, text=True, timeout=300)


FULL_DISK = """
import errno, os, sys
from pokerl_fast.learn import checkpoint
from pokerl_fast.train import main

real_write, manifests = checkpoint._write_bytes, []

def write_until_the_disk_is_full(path, data):  # the disk fills halfway through the 3rd checkpoint's manifest
    if path.name == "manifest.json":
        manifests.append(path)
        if len(manifests) == 3:
            real_write(path, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    real_write(path, data)

checkpoint._write_bytes = write_until_the_disk_is_full
sys.exit(main(sys.argv[1:]))
"""


def test_a_full_disk_while_saving_keeps_the_previous_checkpoint_and_stops_with_one_line(tmp_path):
    run_dir = tmp_path / "run"
    out = run_patched(FULL_DISK, run_dir, 6 * BATCH, "--checkpoint-iterations", "1")
    assert out.returncode == 2, out.stderr[-3000:]
    ckpts = run_dir / "checkpoints"
    assert out.stderr.splitlines() == [
        f"error: could not write checkpoint {ckpts / checkpoint.checkpoint_name(3 * BATCH)}: No space left on "
        f"device; the previous checkpoint {checkpoint.checkpoint_name(2 * BATCH)} is kept"]
    assert sorted(p.name for p in ckpts.iterdir()) == [checkpoint.checkpoint_name(s * BATCH) for s in (1, 2)]
    skipped = []
    assert checkpoint.latest(ckpts, skipped).step == 2 * BATCH and skipped == []


MAP_DISK_FULL = """
import errno, os, sys
from pokerl_fast.run import outputs
from pokerl_fast.train import main

def full(*args):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

outputs.render_explored_map = outputs.render_kanto_map = full
sys.exit(main(sys.argv[1:]))
"""


def test_a_map_that_cannot_be_written_is_one_line_and_the_run_goes_on(tmp_path):
    run_dir = tmp_path / "run"
    out = run_patched(MAP_DISK_FULL, run_dir, 2 * BATCH, "--map-png-iterations", "1")
    assert out.returncode == 0, out.stderr[-3000:]
    warning = f"warning: could not write {run_dir / 'explored_map.png'} (No space left on device); training goes on"
    assert out.stderr.splitlines() == [warning] * 3  # after each of 2 updates, and with the final checkpoint
    assert checkpoint.latest(run_dir / "checkpoints").step == 2 * BATCH


KILL_ITERATIONS = 32


def checkpoint_writes(ckpts: Path, pid: int, after_step: int) -> set[int]:
    """Steps of the checkpoints that the trainer ``pid`` began writing after ``after_step`` (temp or done)."""
    steps = set()
    for name in os.listdir(ckpts) if ckpts.is_dir() else []:
        if name.startswith(checkpoint.TMP_PREFIX) and name.endswith(f"-{pid}"):
            steps.add(int(name[len(checkpoint.TMP_PREFIX):][:12]))
        elif m := checkpoint.CHECKPOINT_RE.match(name):
            steps.add(int(m.group(1)))
    return {s for s in steps if s > after_step}


def kill_at_a_random_moment(proc: subprocess.Popen, kind: str, ckpts: Path, after_step: int, left: int,
                            rng: random.Random) -> str:
    """SIGKILL a trainer that starts after ``after_step`` with ``left`` updates to go, at a seeded random moment of
    ``kind``: during its startup, inside its n-th checkpoint write, or at a random time in training. It is killed at
    the latest when its ``min(3, left)``-th write begins, so that no trainer lives to finish the run."""
    cap = min(3, left)
    kind = kind if left > 3 else "write"
    nth = {"startup": None, "write": rng.randint(1, cap), "training": 1}[kind]
    delay = {"startup": rng.uniform(0, 3), "write": rng.uniform(0, 0.03), "training": rng.uniform(0, 0.3)}[kind]
    deadline = time.monotonic() + delay if kind == "startup" else math.inf
    seen: set[int] = set()  # a union: pruning removes checkpoints this trainer wrote
    while proc.poll() is None and time.monotonic() < deadline:
        writes = seen | checkpoint_writes(ckpts, proc.pid, after_step)
        if len(writes) > len(seen):
            seen = writes
            if nth is not None and len(seen) >= nth and deadline == math.inf:
                deadline = time.monotonic() + delay
            if len(seen) >= cap and kind != "write":
                deadline = time.monotonic()
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    return kind


def test_sigkill_at_20_random_moments_then_resume_matches_the_uninterrupted_run(tmp_path):
    """Kills land during startup, rollouts, updates and checkpoint writes (a temp dir left behind proves one was
    under way); every resume picks the newest complete checkpoint, and the run ends as if never interrupted."""
    total = KILL_ITERATIONS * BATCH
    reference = tmp_path / "reference"
    out = run_cli(["--run-dir", str(reference), "--total-steps", str(total), *DETERMINISTIC])
    assert out.returncode == 0, out.stderr[-3000:]

    run_dir = tmp_path / "killed"
    ckpts = run_dir / "checkpoints"
    fresh = ["--run-dir", str(run_dir), "--total-steps", str(total), *DETERMINISTIC, "--keep-checkpoints", "2"]
    rng = random.Random(2024)
    kinds = ["startup"] * 4 + ["write"] * 8 + ["training"] * 8
    rng.shuffle(kinds)
    trials = []
    for kind in kinds:
        skipped = []
        last = checkpoint.latest(ckpts, skipped)
        assert skipped == [], skipped  # a kill never leaves a damaged checkpoint under a loadable name
        done = last.meta["iteration"] if last else 0
        proc = start_cli(["--resume", str(run_dir)] if last else fresh)
        started = time.monotonic()
        kind = kill_at_a_random_moment(proc, kind, ckpts, last.step if last else 0, KILL_ITERATIONS - done, rng)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, f"the trainer was not killed ({proc.returncode}): {stderr[-2000:]}"
        in_write = ckpts.is_dir() and any(n.startswith(checkpoint.TMP_PREFIX) and n.endswith(f"-{proc.pid}")
                                          for n in os.listdir(ckpts))
        trials.append((kind, round(time.monotonic() - started, 2), done, in_write))
    print("\nkills (moment, seconds after start, updates done before, inside a checkpoint write):", trials)

    last = checkpoint.latest(ckpts)
    out = run_cli(["--resume", str(run_dir)])
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"resumed at step {last.step}" in out.stdout and out.stderr == ""
    assert not any(n.startswith(checkpoint.TMP_PREFIX) for n in os.listdir(ckpts))
    final = checkpoint.latest(ckpts)
    assert (final.step, final.meta["global_step"], final.meta["iteration"]) == (total, total, KILL_ITERATIONS)
    assert checkpoint.load(final)["counters"] == {"global_step": total, "iteration": KILL_ITERATIONS,
                                                  "rollout_step": 0}
    assert len(checkpoint.list_checkpoints(ckpts)) == 2  # keep-last-2 held through the kills
    assert sum(t[3] for t in trials) >= 3, trials  # some kills landed inside checkpoint writes
    assert {t[0] for t in trials} == {"startup", "write", "training"}
    ref = load_file(str(reference / "checkpoints" / final.path.name / "tensors.safetensors"))
    got = load_file(str(final.path / "tensors.safetensors"))
    assert any(k.startswith("/policy/") for k in ref) and got.keys() == ref.keys()
    for k in ref:  # weights, optimizer moments, RNG and LSTM states: bit for bit
        assert torch.equal(got[k], ref[k]), k


def test_periodic_evaluation_leaves_the_training_run_unchanged(tmp_path, reference_run):
    run_dir = tmp_path / "run"
    out = run_cli(["--run-dir", str(run_dir), "--total-steps", str(ITERATIONS * BATCH), *DETERMINISTIC,
                   "--eval-interval", "2", "--eval-episodes", "2", "--eval-steps", "20"])
    assert out.returncode == 0, out.stderr[-3000:]
    assert_same_run(reference_run, run_dir)
    evals = tb_scalars(run_dir, "eval/")
    assert sorted(evals["eval/explore"]) == [2 * BATCH, 4 * BATCH, 6 * BATCH]
    report = json.loads((run_dir / "progress.json").read_text())
    assert report["eval"]["global_step"] == 6 * BATCH and report["eval"]["env_steps"] == 2 * 20
    assert "last evaluation (step 192)" in out.stdout


def test_progress_json_tensorboard_and_the_stuck_detector_in_a_short_run(tmp_path):
    run_dir = tmp_path / "run"
    out = run_cli(["--run-dir", str(run_dir), "--total-steps", str(6 * BATCH), *TINY_FLAGS, "--env.stuck-steps", "8",
                   "--env.stuck-ends-episode", "--eval-interval", "3", "--eval-episodes", "2", "--eval-steps", "16"])
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads((run_dir / "progress.json").read_text())
    assert set(report) == {"global_step", "iteration", "progress", "eval"}
    progress = report["progress"]
    assert report["global_step"] == progress["env_steps"] == 6 * BATCH and report["iteration"] == 6
    assert set(progress) == {"episodes", "env_steps", "milestones", "map_share", "stuck_share", "stuck_episode_ends"}
    # episodes of 40 steps, 2 envs: 9 end by length at most; a stuck env's episode ends after 8 steps without news
    assert progress["episodes"] > 6 * BATCH // 40 and progress["stuck_episode_ends"] > 0
    assert 0 < progress["stuck_share"] < 1 and np.isclose(sum(progress["map_share"].values()), 1.0)
    for m in progress["milestones"].values():
        assert set(m) == {"reach_rate", "median_steps", "reached", "held_at_start"}
    assert report["eval"]["iteration"] == 6 and report["eval"]["episodes"] == 2
    tags = tb_scalars(run_dir)
    for name in ("progress/stuck_share", "progress/stuck_episode_ends", "progress/map_share/REDS_HOUSE_2F",
                 "episode/stuck_end", "eval/stuck_share", "eval/explore", "eval/map_share/REDS_HOUSE_2F"):
        assert name in tags, name
    assert np.isclose(tags["progress/stuck_share"][6 * BATCH], progress["stuck_share"])  # TensorBoard: float32
    assert "run progress: " in out.stdout and "time by map: REDS_HOUSE_2F" in out.stdout


# --- output -----------------------------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_and_plain_lines_otherwise(tmp_path):
    from pokerl_fast.run.logger import RunLogger

    summary = {"charts/SPS": 1234.0, "charts/episodic_return": 2.5, "milestones/events": 3.0,
               "milestones/required_events": 2.0, "milestones/badges": 1.0}
    term = _Terminal()
    log = RunLogger(tmp_path, 100, tensorboard=False, progress=True, stream=term)
    log.status(50, summary)
    log.close()
    text = term.getvalue()
    assert "1234 steps/s" in text and "events 3" in text and "badges 1" in text and "\x1b[" in text

    plain = io.StringIO()
    log = RunLogger(tmp_path, 100, tensorboard=False, progress=True, stream=plain)
    log.status(50, summary)
    log.status(60, summary)  # within plain_every_s: not printed
    log.status(100, summary)  # the end is always printed
    log.close()
    lines = plain.getvalue().splitlines()
    assert lines == ["step 50/100  1234 steps/s  return 2.50  events 3  required 2  badges 1",
                     "step 100/100  1234 steps/s  return 2.50  events 3  required 2  badges 1"]


def test_wandb_without_the_package_is_one_line_and_nothing_else_imports_it(tmp_path):
    script = (
        "import sys; sys.modules['wandb'] = None\n"  # as if wandb were not installed
        "from pokerl_fast.train import main\n"
        "code = main(sys.argv[1:])\n"
        "assert 'wandb' not in [m for m in sys.modules if sys.modules[m] is not None], 'wandb was imported'\n"
        "sys.exit(code)\n"
    )
    args = ["--run-dir", str(tmp_path / "run"), "--total-steps", str(BATCH), *TINY_FLAGS]
    out = subprocess.run([sys.executable, "-c", script, *args, "--wandb"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == (
        "error: --wandb needs the wandb package: pip install 'pokerl_fast[wandb]'")
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]


# --- `--rom PATH`: the Red layer's command, on a copy of the test world here and on the real game with POKERL_ROM ---

def check_run_with_rom(rom_path: Path, tmp_path: Path, steps: int) -> dict:
    """``python -m pokerl_fast.train --rom PATH``: builds (and caches) its start state from that ROM, trains,
    logs milestones, writes the explored map and checkpoints with the swarming archive. Returns the snapshot."""
    import hashlib
    import os

    from pokerl_fast.game.red import cache_path

    run_dir, cache = tmp_path / "run", tmp_path / "cache"
    env = dict(os.environ, POKERL_CACHE_DIR=str(cache))
    env.pop("POKERL_ROM", None)  # the flag alone must choose the ROM
    out = subprocess.run([sys.executable, "-m", "pokerl_fast.train", "--rom", str(rom_path), "--run-dir", str(run_dir),
                          "--total-steps", str(steps), "--swarm-interval", "16", *TINY_FLAGS],
                         capture_output=True, text=True, timeout=900, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    sha1 = hashlib.sha1(rom_path.read_bytes()).hexdigest()
    assert cache_path(sha1, cache / "states").is_file()  # the start state made from this ROM, cached
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["env"]["rom"] == str(rom_path)
    assert (run_dir / "explored_map.png").is_file()
    ckpt = checkpoint.latest(run_dir / "checkpoints")
    assert ckpt.step == steps and ckpt.meta["rom_sha1"] == sha1
    tags = tb_scalars(run_dir)
    assert {"milestones/events", "milestones/required_events", "milestones/badges", "helpers/hm_used"} <= set(tags)
    snap = checkpoint.load(ckpt)
    assert "archive" in snap["env"]
    return snap


def test_train_with_the_rom_flag_on_a_copy_of_the_test_world(tmp_path):
    from pokerl_fast.game import testworld

    rom = tmp_path / "my world.gb"  # a path of the user's, with a space
    rom.write_bytes(Path(testworld.testworld_rom_path()).read_bytes())
    check_run_with_rom(rom, tmp_path, 4 * BATCH)


@pytest.mark.red
def test_train_with_the_rom_flag_on_red(tmp_path):

    check_run_with_rom(Path(support.red_rom()), tmp_path, 4 * BATCH)


@pytest.mark.parametrize("asked, cpu, want", [(True, False, True), (False, True, False), (None, True, True),
                                              (None, False, False)])
def test_bf16_is_as_asked_or_where_the_cpu_runs_it(monkeypatch, asked, cpu, want):
    from pokerl_fast.run.checks import resolve_bf16

    monkeypatch.setattr(runtime, "cpu_runs_bf16", lambda: cpu)
    assert resolve_bf16(asked, torch.device("cpu")) is want


def test_the_run_says_which_mechanisms_are_on():
    from pokerl_fast.config import EnvConfig

    line = EnvConfig().mechanisms()
    assert line.startswith("mechanisms: ") and "swarming" in line and "explore boost" in line
    on = EnvConfig(swarm_interval=512, reset_to_archive=0.25, explore_boost=3.0, stuck_steps=256,
                   stuck_ends_episode=True, observe_progress=True, explore_reset_interval=2048,
                   adaptive_steps=True).mechanisms()
    for text in ("swarming every 512 steps (25% of envs)", "reset to archive 25%", "explore boost x3",
                 "stuck after 256 steps ends the episode outside text and battles", "progress observation on",
                 "exploration memory reset every 2048", "adaptive steps"):
        assert text in on, (text, on)


def test_milestone_clips_are_written_once_each_bounded_and_decodable(tmp_path):
    from PIL import Image

    from pokerl_fast.game import testworld as tw
    import pokerl_fast
    from pokerl_fast.run.outputs import write_clips

    trigger = tw.TRIGGERS[0]
    path = tw.find_path(tw.START_ROOM, tw.START_XY, trigger.room, trigger.xy)
    envs = pokerl_fast.make_vec_env(1, reset_noop_max=0, num_threads=1, clip_steps=8)
    try:
        envs.reset(seed=0)
        for d in path:
            envs.step(np.array([envs.config.actions.index(d)]))
        written = write_clips(envs, str(tmp_path), num_envs=1)
        assert [p.name for p in written] == [f"{len(path):012d}-{trigger.event}-env0.{p.suffix[1:]}" for p in written]
        assert written[0].parent == tmp_path / "clips" and written[0].stat().st_size < 200_000
        assert written[0].suffix == ".mp4"  # the bundled ffmpeg: MP4 whatever is on PATH
        codec, frames = support.decode_video(written[0])
        assert codec == "h264" and frames.shape == (8, 3 * 144 + CAPTION_H, 3 * 160, 3)
        assert (frames[-1, 3 * 144 + 2:] > 128).any()  # the caption's text
        assert write_clips(envs, str(tmp_path), num_envs=1) == []  # nothing new
    finally:
        envs.close()


def test_a_live_map_port_in_use_is_one_line_and_leaves_nothing(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "pokerl_fast.train", "--run-dir", str(tmp_path / "run"),
                              "--live-map", str(port)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        f"error: cannot serve the live map on 127.0.0.1:{port} (Address already in use); pass --live-map 0 for any "
        "free port"]
    assert list(tmp_path.iterdir()) == []


# --- overlap: learning from one rollout while the envs collect the next --------------------------------------


OVERLAP = [*DETERMINISTIC, "--overlap", "on"]


@pytest.fixture(scope="module")
def overlap_reference_run(tmp_path_factory) -> Path:
    """An uninterrupted deterministic run with --overlap on (the CPU runs the same scheduling as a GPU run)."""
    return uninterrupted_run(tmp_path_factory, "overlap", OVERLAP)


def logprobs_under(weights: dict, rollout: dict, run_dir: Path) -> torch.Tensor:
    """The log-probs of a checkpointed rollout's actions under ``weights`` (the run's policy, segment by segment
    from the LSTM states the rollout kept)."""
    import gymnasium as gym

    from pokerl_fast.env import observation_space
    from pokerl_fast.learn.policy import Policy

    cfg = cli.merge(TrainConfig(), yaml.safe_load((run_dir / "config.yaml").read_text()))
    policy = Policy.from_spaces(observation_space(cfg.env), gym.spaces.Discrete(len(cfg.env.actions)), cfg.policy)
    policy.load_state_dict(weights)
    obs = {k[4:]: v for k, v in rollout.items() if k.startswith("obs.")}
    bptt, out = cfg.ppo.bptt, []
    with torch.no_grad():
        for seg in range(rollout["actions"].shape[0] // bptt):
            sl = slice(seg * bptt, (seg + 1) * bptt)
            logits, _, _ = policy.forward_sequence({k: v[sl] for k, v in obs.items()},
                                                   (rollout["lstm_h"][seg], rollout["lstm_c"][seg]), rollout["dones"][sl])
            out.append(torch.log_softmax(logits, -1).gather(-1, rollout["actions"][sl].unsqueeze(-1)).squeeze(-1))
    return torch.cat(out)


def test_overlap_learns_every_rollout_once_a_rollout_behind_and_repeats_itself(tmp_path, overlap_reference_run):
    ref = overlap_reference_run
    # Every checkpoint but the last holds the rollout waiting for its update; the last one is written after the
    # final rollout's update (nothing pending). Between updates the actor has the learner's weights.
    ckpts = checkpoint.list_checkpoints(ref / "checkpoints")
    assert [c.step for c in ckpts] == [BATCH * i for i in range(1, ITERATIONS + 1)]
    snaps = [checkpoint.load(c) for c in ckpts]
    assert all(s["overlap"]["has_pending"] for s in snaps[:-1]) and not snaps[-1]["overlap"]["has_pending"]
    for snap in snaps:
        assert all(torch.equal(snap["overlap"]["actor"][n], t) for n, t in snap["policy"].items())
    # Rollout k was collected while update k-1 ran: its actions' log-probs are those of the weights before that
    # update (checkpoint k-1's), not those of the weights learning from it (checkpoint k's).
    for k in range(2, ITERATIONS):
        pending = snaps[k - 1]["overlap"]["pending"]
        kept = pending["logprobs"]
        torch.testing.assert_close(logprobs_under(snaps[k - 2]["policy"], pending, ref), kept, atol=1e-4, rtol=0)
        assert (logprobs_under(snaps[k - 1]["policy"], pending, ref) - kept).abs().max() > 1e-3
    # Rollout k's losses are logged with rollout k+1 (its update ran beside it); the last rollout's update runs
    # alone at the end (its weights are the last checkpoint's).
    logged = losses(ref)["losses/policy_loss"]
    assert sorted(logged) == [BATCH * i for i in range(2, ITERATIONS + 1)]
    assert not all(torch.equal(snaps[-1]["policy"][n], t) for n, t in snaps[-2]["policy"].items())
    # Same seed, same run: the update on its own thread draws from its own generator.
    again = tmp_path / "again"
    out = run_cli(["--run-dir", str(again), "--total-steps", str(ITERATIONS * BATCH), *OVERLAP])
    assert out.returncode == 0, out.stderr[-3000:]
    assert_same_final_weights_and_losses(ref, again)


def assert_same_final_weights_and_losses(reference: Path, run_dir: Path) -> None:
    assert losses(run_dir) == losses(reference)
    last = ITERATIONS * BATCH
    final = weights_by_step(run_dir)[last]
    for name, tensor in weights_by_step(reference)[last].items():
        assert torch.equal(final[name], tensor), name


@pytest.mark.parametrize("checks", [20, 45])
def test_overlap_stopped_mid_rollout_then_resumed_is_bit_exact(tmp_path, overlap_reference_run, checks):
    split = tmp_path / "split"
    stop_mid_rollout(split, checks, OVERLAP)
    out = run_cli(["--resume", str(split)])
    assert out.returncode == 0, out.stderr[-3000:]
    assert_same_final_weights_and_losses(overlap_reference_run, split)


def test_overlap_sigterm_at_an_update_boundary_then_resume_is_bit_exact(tmp_path, overlap_reference_run):
    split = tmp_path / "split"
    proc = start_cli(["--run-dir", str(split), "--total-steps", str(ITERATIONS * BATCH), *OVERLAP])
    wait_for_checkpoint(split, proc, 2 * BATCH)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr[-3000:]
    assert checkpoint.latest(split / "checkpoints").step < ITERATIONS * BATCH
    out = run_cli(["--resume", str(split)])
    assert out.returncode == 0, out.stderr[-3000:]
    assert_same_final_weights_and_losses(overlap_reference_run, split)


def test_overlap_on_under_torchrun_or_a_pending_rollout_without_overlap_is_one_line(tmp_path, overlap_reference_run):
    from pokerl_fast.learn import distributed
    from pokerl_fast.run.checks import overlapping

    two = distributed.Ranks(rank=0, world=2)
    with pytest.raises(TrainError, match="not supported under torchrun"):
        overlapping(TrainConfig(overlap="on"), torch.device("cpu"), two)
    assert not overlapping(TrainConfig(overlap="auto"), torch.device("cuda"), two)
    assert not overlapping(TrainConfig(), torch.device("cpu"), distributed.Ranks())
    assert overlapping(TrainConfig(), torch.device("cuda"), distributed.Ranks())
    # Resuming an overlapped run without overlap: the CLI refuses the changed option; a run whose overlap was
    # "auto" on a GPU and resumes on a CPU would load a rollout waiting for its update: refused in one line.
    out = run_cli(["--resume", str(overlap_reference_run), "--overlap", "off"])
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "overlap='on'" in out.stderr, out.stderr
    from pokerl_fast.run.learner import Learner
    from pokerl_fast.run.state import restore_overlap

    pending = checkpoint.load(checkpoint.list_checkpoints(overlap_reference_run / "checkpoints")[0])["overlap"]
    plain = Learner(*[None] * 7)
    with pytest.raises(TrainError, match="resume with the same --overlap"):
        restore_overlap(plain, pending)
    restore_overlap(plain, {**pending, "has_pending": False})  # nothing pending: nothing to refuse


def test_the_memory_estimate_counts_the_rollout_an_overlapped_run_keeps_waiting(tmp_path, monkeypatch):
    from pokerl_fast.game.rom import resolve_rom
    from pokerl_fast.run.checks import check_inputs, estimate_memory

    cfg = TrainConfig()
    plain, overlapped = estimate_memory(cfg, 1 << 20), estimate_memory(cfg, 1 << 20, overlap=True)
    assert overlapped["rollout"] * 3 == plain["rollout"] * 4  # rollout, batch, minibatches + the pending rollout
    assert {k: v for k, v in overlapped.items() if k != "rollout"} == {k: v for k, v in plain.items() if k != "rollout"}
    # The CLI's check counts it: a config that fits without overlap and not with it is refused only with it.
    big = TrainConfig(run_dir=str(tmp_path / "run"), num_envs=4096)
    big.env.rom = "testworld"
    need = estimate_memory(big, resolve_rom("testworld").path.stat().st_size)
    budget = sum(need.values()) + need["rollout"] // 6  # room for the plain run, not for a third more rollout
    monkeypatch.setattr("pokerl_fast.runtime.available_memory", lambda: budget)
    with pytest.raises(TrainError, match="of memory"):
        check_inputs(dataclasses.replace(big, overlap="on"), resuming=False)
    check_inputs(dataclasses.replace(big, overlap="off"), resuming=False)
    assert not (tmp_path / "run").exists()


def test_the_trainer_logs_the_share_of_distinct_images_its_cnn_ran_on(tmp_path):
    """Minibatches of 128 samples: the fast path runs the CNN once per distinct image and the trainer logs the
    share (perf/distinct_images); the first random steps in the bedroom repeat many images."""
    from pokerl_fast.config import EnvConfig, PolicyConfig, PPOConfig, TrainConfig
    from pokerl_fast.run.train import train

    cfg = TrainConfig(run_dir=str(tmp_path), total_steps=256, num_envs=4, device="cpu", progress=False,
                      torch_threads=1, env=EnvConfig(num_threads=1), eval_interval=0,
                      ppo=PPOConfig(num_steps=32, bptt=16, num_minibatches=1, update_epochs=1),
                      policy=PolicyConfig(hidden_size=32, cnn_channels=(4, 8, 8), cnn_features=32, map_embedding=4,
                                          ram_hidden=16))
    share = train(cfg)["scalars"]["perf/distinct_images"]
    assert 0 < share < 1
