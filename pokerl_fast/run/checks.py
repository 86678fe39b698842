"""Every check a run's inputs get before anything is written, each failing with one line (``TrainError``): the
config's values, the ROM, the memory the run needs (estimated by part), the run dir, the live map's port, the
start state, and a resume's config and ROM against its checkpoint's. Then the run dir is made and torch set up."""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
from pathlib import Path

import numpy as np
import torch

from pokerl_fast import cli, runtime
from pokerl_fast.config import TrainConfig
from pokerl_fast.fileio import write_atomic
from pokerl_fast.game.rom import resolve_rom
from pokerl_fast.game.testworld import WORLDS
from pokerl_fast.learn import checkpoint, distributed


class TrainError(RuntimeError):
    """The run cannot start or resume; the message is one line saying what to do."""


# Fields a resumed run may change; any other difference from the checkpoint's config is refused.
RESUMABLE_CHANGES = frozenset({
    "run_dir", "total_steps", "device", "torch_threads", "deterministic", "checkpoint_minutes",
    "checkpoint_iterations", "keep_checkpoints", "progress", "wandb", "wandb_project", "map_png_iterations",
    "env.num_threads", "env.rom", "env.start_state", "env.start_save", "eval_interval", "eval_episodes", "eval_steps",
    "env.paint_interval", "env.clip_steps", "live_map_port",  # what is drawn, not what is learned
})  # fmt: skip


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def check_resume(saved: dict, asked: dict, run_dir: str) -> None:
    """Refuse a resume whose config differs from the checkpoint's in a field that changes the run. A field the
    saved config lacks (added to the trainer after that run began) takes today's default, which keeps the
    behaviour it had then (new mechanisms default to off, or change only what is drawn)."""
    known = set(_leaf_names(saved))
    bad = [d for d in cli.diff(saved, asked) if d[0] not in RESUMABLE_CHANGES and d[0] in known]
    if bad:
        name, was, now = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise TrainError(
            f"cannot resume {run_dir}: it was trained with {name}={was!r}, this run asks {now!r}{more}; "
            f"drop that option or start a new run in another --run-dir"
        )


def _leaf_names(tree: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in tree.items():
        out += _leaf_names(value, f"{prefix}{key}.") if isinstance(value, dict) else [f"{prefix}{key}"]
    return out


def check_rom(saved_sha1: str, rom: str | None, run_dir: str) -> None:
    info = resolve_rom(rom)
    if info.sha1 != saved_sha1:
        raise TrainError(
            f"cannot resume {run_dir}: its checkpoint was made with ROM sha1 {saved_sha1}, but {info.path} has sha1 "
            f"{info.sha1}; pass the ROM the run was trained on with --rom"
        )


# Memory a run takes, measured with default training on the test world (peak RSS, the 2-core machine): ~450 MiB
# for the process with torch, the policy and its optimizer; each emulator ~1.2 MiB beside its own copy of the
# ROM; every env step of a rollout kept three times (the buffer, the batch cut into segments, a minibatch); the
# update's activations ~0.5 MiB per minibatch env step (706 MiB peak at 512 per minibatch, 527 MiB at 128).
BASE_BYTES = 450 << 20


EMULATOR_BYTES = 1_250_000


ACTIVATION_BYTES = 500_000


STEP_SCALARS_BYTES = 40  # action, log-prob, value, reward, done, advantage, return


RUN_DIR_FIX = "pass --run-dir a new folder in a place you can write to"


def estimate_memory(cfg: TrainConfig, rom_bytes: int, overlap: bool = False) -> dict[str, int]:
    """Bytes the run will need, by part (``emulators``, ``rollout``, ``update``, ``process``). The rollout part
    counts the rollout, the update's batch and its minibatch copies, and with ``overlap`` the rollout waiting for
    its update while the next one is collected."""
    from pokerl_fast.env import observation_space

    step = sum(math.prod(s.shape) * np.dtype(s.dtype).itemsize for s in observation_space(cfg.env).values())
    return {
        "emulators": cfg.num_envs * (EMULATOR_BYTES + rom_bytes),
        "rollout": (3 + overlap) * cfg.batch_size * (step + STEP_SCALARS_BYTES),
        "update": cfg.minibatch_size * ACTIVATION_BYTES,
        "process": BASE_BYTES,
    }


def check_memory(cfg: TrainConfig, rom_bytes: int, available: int | None, overlap: bool = False) -> None:
    """Refuse a run whose estimate (``estimate_memory``) exceeds the memory available, with the estimate shown."""
    need = estimate_memory(cfg, rom_bytes, overlap)
    total = sum(need.values())
    if available is None or total <= available:
        return
    gib = lambda n: f"{n / 2**30:.1f} GiB"  # noqa: E731
    parts = ", ".join(f"{k} {gib(v)}" for k, v in need.items())
    raise TrainError(f"{cfg.num_envs} envs x {cfg.ppo.num_steps} steps need about {gib(total)} of memory ({parts}) "
                     f"but {gib(available)} is available; lower --num-envs or --num-steps")


def check_run_dir(run_dir: Path, resuming: bool) -> None:
    """Refuse a run dir that is a file or under one, or that holds another run's checkpoints (a new run there
    would prune them); nothing is created (``prepare_run_dir`` makes it, and says so if it cannot)."""
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainError(f"run dir {run_dir} is a file, not a folder; {RUN_DIR_FIX}")
    if run_dir.is_dir() and not resuming and checkpoint.candidates(run_dir / "checkpoints"):
        raise TrainError(f"run dir {run_dir} already holds a run's checkpoints; continue it with "
                         f"--resume {run_dir} or pass another --run-dir")
    parent = run_dir.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise TrainError(f"cannot make run dir {run_dir}: {parent} is a file, not a folder; {RUN_DIR_FIX}")


def check_live_map_port(port: int) -> None:
    """A --live-map port that another program holds is refused before anything is written."""
    if port <= 0:
        return
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            raise TrainError(f"cannot serve the live map on 127.0.0.1:{port} ({e.strerror or e}); "
                             "pass --live-map 0 for any free port") from None


def overlapping(cfg: TrainConfig, device: torch.device, ranks: distributed.Ranks) -> bool:
    """Whether this run learns from one rollout while collecting the next (TrainConfig.overlap)."""
    if cfg.overlap == "on" and ranks.active:
        raise TrainError("--overlap on is not supported under torchrun (its ranks already share the work); "
                         "drop --overlap or pass --overlap off")
    return cfg.overlap == "on" or (cfg.overlap == "auto" and device.type == "cuda" and not ranks.active)


def check_inputs(cfg: TrainConfig, resuming: bool) -> tuple[TrainConfig, bytes]:
    """Every check a run's inputs get before anything is written: the config's values, the ROM, the memory the
    run needs, the run dir (named here: default runs/<date>-<time>), and the start state (the user's file checked
    against the ROM, else made from the ROM). Raises TrainError, RomError or StartStateError with one line.
    Returns the config with ``run_dir`` and the precision (``policy.bf16``) set, and the start state."""
    from pokerl_fast.env import load_start_state

    try:
        cfg.validate()
    except ValueError as e:
        raise TrainError(str(e)) from None
    rom = resolve_rom(cfg.env.rom)
    check_memory(cfg, rom.path.stat().st_size, runtime.available_memory(),
                 overlapping(cfg, resolve_device(cfg.device), distributed.from_environment()))
    check_live_map_port(cfg.live_map_port)
    run_dir = resolve_path(cfg.run_dir or Path("runs") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    check_run_dir(Path(run_dir), resuming)
    env = dataclasses.replace(
        cfg.env, start_state=resolve_path(cfg.env.start_state) if cfg.env.start_state is not None else None,
        start_save=resolve_path(cfg.env.start_save) if cfg.env.start_save is not None else None,
        rom=cfg.env.rom if cfg.env.rom is None or cfg.env.rom in WORLDS and not Path(cfg.env.rom).exists()
        else resolve_path(cfg.env.rom))
    policy = dataclasses.replace(cfg.policy, bf16=resolve_bf16(cfg.policy.bf16, resolve_device(cfg.device)))
    return dataclasses.replace(cfg, run_dir=run_dir, env=env, policy=policy), load_start_state(env, rom)


def resolve_bf16(asked: bool | None, device: torch.device) -> bool:
    """bfloat16 autocast as asked, or (none) where the hardware runs it: a CUDA GPU that supports it, a CPU with
    AVX512-BF16 or AMX."""
    if asked is not None:
        return asked
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return runtime.cpu_runs_bf16()


def resolve_path(path: str | os.PathLike) -> str:
    """``path`` absolute, ``~`` expanded and ``..`` resolved: what the config keeps, so a resume from another
    folder reads and writes where the run started."""
    return str(Path(path).expanduser().resolve())


def prepare_run_dir(cfg: TrainConfig) -> None:
    """Create the run directory (checked by ``check_inputs``), drop a killed run's half-written checkpoints and
    write the resolved config.yaml; TrainError in one line when the folder cannot be made or written."""
    run_dir = Path(cfg.run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        checkpoint.clean_leftovers(run_dir / "checkpoints")
        write_atomic(run_dir / "config.yaml", cli.dump_yaml(cfg).encode())
    except OSError as e:
        raise TrainError(f"cannot write run dir {run_dir} ({e.strerror or e}); {RUN_DIR_FIX}") from None


def configure_torch(cfg: TrainConfig) -> torch.device:
    """Threads and determinism as asked; returns the device the policy runs on."""
    if cfg.deterministic:
        # MKL's GEMM results depend on memory alignment (they differ by an ulp between a fresh and a resumed
        # process) unless its conditional numerical reproducibility mode is on. MKL reads the variable when it
        # first runs, so this works in a fresh process such as the CLI's; set MKL_CBWR yourself otherwise.
        os.environ.setdefault("MKL_CBWR", "COMPATIBLE")
    torch.set_num_threads(cfg.torch_threads or runtime.available_cpus())
    # The fast path flushes denormal floats to zero on the CPU: Adam's second moments of parameters that rarely get
    # a gradient (a map's embedding row) and small activations decay into denormals, which x86 handles up to
    # ~100x slower; an update of the default policy went from 1.30 s to 1.13 s (docs/performance.md).
    torch.set_flush_denormal(bool(cfg.policy.fast_path))
    runtime.keep_freed_memory()
    torch.use_deterministic_algorithms(cfg.deterministic)
    return resolve_device(cfg.device)
