"""``torchrun --nproc-per-node 2 -m pokerl_fast.train`` on CPU (gloo): two real ranks, each with its own envs,
gradients averaged; both hold identical weights after the run, rank 0 alone checkpoints, and a resumed 2-rank
run continues from the checkpoint. A resume with another number of ranks is refused in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pokerl_fast.learn import checkpoint

TINY = ["--num-envs", "2", "--no-progress", "--hidden-size", "32", "--cnn-channels", "4", "8", "8",
        "--cnn-features", "32", "--map-embedding", "4", "--ram-hidden", "16", "--ppo.num-steps", "128"]


def torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2"]
    return subprocess.run([*launcher, "-m", "pokerl_fast.train", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_two_ranks_train_with_identical_weights_and_resume(tmp_path):
    run_dir = tmp_path / "run"
    first = torchrun("--run-dir", str(run_dir), "--total-steps", "1024", *TINY, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "2 ranks (torchrun), 2 envs each" in first.stdout
    assert "2 ranks: weights identical on every rank" in first.stdout  # rank 0 compared every rank's digest
    assert first.stdout.count("policy: ") == 1  # rank 1 prints nothing of its own
    ckpt = checkpoint.latest(run_dir / "checkpoints")
    assert ckpt.step == 1024 and ckpt.meta["ranks"] == 2 and ckpt.meta["iteration"] == 2  # 2 x 2 envs x 128 x 2
    assert len(list((run_dir / "checkpoints").glob("ckpt-*"))) == 1

    again = torchrun("--resume", str(run_dir), "--total-steps", "2048", "--no-progress", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resumed at step 1024" in again.stdout and "weights identical on every rank" in again.stdout
    assert checkpoint.latest(run_dir / "checkpoints").step == 2048
    progress = json.loads((run_dir / "progress.json").read_text())
    assert progress["global_step"] == 1024  # rank 0's own env steps (it steps half of them)

    alone = subprocess.run([sys.executable, "-m", "pokerl_fast.train", "--resume", str(run_dir), "--total-steps",
                            "4096"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert alone.returncode == 2
    assert alone.stderr.strip().splitlines() == [
        f"error: cannot resume {run_dir} with 1 rank(s): it was trained with 2; run: torchrun --nproc-per-node 2 "
        f"-m pokerl_fast.train --resume {run_dir}"]


def test_reduce_helpers_are_identity_without_torchrun():
    import torch

    from pokerl_fast.learn import distributed

    ranks = distributed.from_environment()
    assert not ranks.active and ranks.main and ranks.world == 1
    assert distributed.reduce_scalars(ranks, {"a": 1.5}) == {"a": 1.5}
    assert distributed.any_rank(ranks, True) and not distributed.any_rank(ranks, False)
    m = torch.nn.Linear(3, 2)
    m(torch.ones(1, 3)).sum().backward()
    before = [p.grad.clone() for p in m.parameters()]
    distributed.average_gradients(ranks, list(m.parameters()))
    assert all(torch.equal(a, p.grad) for a, p in zip(before, m.parameters()))
    assert distributed.digests_agree(ranks, distributed.weights_digest(m))
