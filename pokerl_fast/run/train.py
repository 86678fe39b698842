"""Train a recurrent PPO agent: the loop, top to bottom (``python -m pokerl_fast.train`` runs it; run/cli.py reads
the flags).

Setup (run/checks.py: inputs checked, run dir made) -> resume or start fresh (run/state.py) -> per iteration:
collect a rollout and update (run/learner.py; with ``--overlap`` both at once, run/overlap.py) -> log, clips,
evaluation, map (run/outputs.py) -> checkpoint on schedule -> at the end (also on Ctrl-C or SIGTERM, after the
current env step or update) a checkpoint and progress.json.

The run directory gets the resolved config (``config.yaml``), TensorBoard event files, ``checkpoints/`` and, when
the run ends, ``progress.json``: per milestone the share of ended episodes that earned it and their median step,
the share of env steps on each map, the stuck share (printed as a table too), and the last periodic evaluation
(``--eval-interval``: the policy alone from the start state). ``--resume RUN_DIR`` continues from the newest
complete checkpoint exactly where it stopped: same weights, optimizer, counters, RNG states, LSTM states, partial
rollout and emulator states. An unexpected error writes no checkpoint: the newest complete one stays, and resuming
repeats the steps after it.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from pathlib import Path

import torch

from pokerl_fast import runtime
from pokerl_fast.config import TrainConfig
from pokerl_fast.learn import checkpoint, distributed
from pokerl_fast.learn.ppo import collect_rollout
from pokerl_fast.run.checks import check_inputs, configure_torch, overlapping, prepare_run_dir
from pokerl_fast.run.learner import (anneal_learning_rate, build_scalars, new_learner, num_iterations, start_fresh,
                                     update)
from pokerl_fast.run.outputs import (open_live_map, open_logger, report_new_milestones, run_evaluation, write_clips,
                                     write_map, write_progress)
from pokerl_fast.run.overlap import drain_overlap, overlapped_iteration
from pokerl_fast.run.state import CheckpointSchedule, restore, restore_shared, save_checkpoint, seed_everything


class _StopOnSignal:
    """First SIGINT/SIGTERM sets ``stop`` (the loop saves and exits); a second SIGINT aborts at once.

    The handler only sets flags: printing from a signal handler can re-enter a stream that is mid-write.
    """

    def __init__(self, stop: threading.Event):
        self.stop, self.previous = stop, {}
        self.received: str | None = None

    def _handle(self, signum, frame):
        if self.received is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.received = signal.Signals(signum).name
        self.stop.set()

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def rank_config(cfg: TrainConfig, ranks: distributed.Ranks) -> TrainConfig:
    """What this rank runs: its envs seeded after the other ranks' (env.seed + rank x num_envs), and the CPUs
    this node's ranks may use split between them (unless threads were set)."""
    if not ranks.active:
        return cfg
    share = max(1, runtime.available_cpus() // ranks.local_world)
    env = dataclasses.replace(cfg.env, seed=cfg.env.seed + ranks.rank * cfg.num_envs,
                              num_threads=cfg.env.num_threads or share)
    return dataclasses.replace(cfg, env=env, torch_threads=cfg.torch_threads or share)


def train(cfg: TrainConfig, resume: checkpoint.Checkpoint | None = None, stop: threading.Event | None = None) -> dict:
    """Run PPO until ``total_steps`` or until ``stop`` is set (or SIGINT/SIGTERM). Returns a summary dict.

    Under ``torchrun`` each rank runs this with its own envs (rank_config); gradients are averaged over ranks
    (learn/distributed.py), rank 0 alone logs, evaluates and writes checkpoints, and a stop is agreed by all."""
    from pokerl_fast.env import VecEnv

    stop = stop or threading.Event()
    ranks = distributed.from_environment()
    cfg, start_state = check_inputs(cfg, resuming=resume is not None or not ranks.main)
    if ranks.main:
        prepare_run_dir(cfg)
        if resume is not None:  # damaged newer checkpoints (skipped): out of loading and pruning for good
            checkpoint.set_aside_damaged(Path(cfg.run_dir) / "checkpoints", resume.step)
    local = rank_config(cfg, ranks)
    device = configure_torch(local)
    if ranks.active and device.type == "cuda":
        torch.cuda.set_device(ranks.local_rank)
        device = torch.device("cuda", ranks.local_rank)
    distributed.init(ranks, device)
    seed_everything(cfg.env.seed)  # the same initial weights on every rank

    overlap = overlapping(cfg, device, ranks)
    envs = VecEnv(local.num_envs, local.env, start_state=start_state)
    logger = live = None
    try:
        learner = new_learner(local, envs, device, overlap)
        distributed.broadcast_module(ranks, learner.policy)
        if ranks.active and resume is None:
            torch.manual_seed(cfg.env.seed + 1 + ranks.rank)  # each rank samples its own actions and minibatches
        if resume is None:
            start_fresh(learner, envs, local, device)
        elif ranks.main:
            restore(resume, learner, envs, device)
        else:
            restore_shared(resume, learner, envs, local, device, ranks)
        c = learner.counters
        iterations = num_iterations(cfg, ranks)
        logger = open_logger(cfg, learner, device, resumed=resume is not None, ranks=ranks)
        speed: dict[str, float] = {}
        live = open_live_map(cfg, learner, envs, ranks, speed)
        if live is not None:
            logger.message(f"live map: {live.url}")
        schedule = CheckpointSchedule(cfg, c)
        start_time, start_step = time.monotonic(), c.global_step
        last_path = resume.path if resume is not None else None
        losses: dict[str, float] = {}
        scalars: dict[str, float] = {}
        # Ranks stop together, between updates: a rank's rollout never stops half-way under torchrun.
        rollout_stop = threading.Event() if ranks.active else stop
        with _StopOnSignal(stop) as signals:
            while c.iteration < iterations and not stop.is_set():
                if overlap:  # the update of the last rollout runs beside this one's collection
                    losses, rollout_seconds, update_seconds = overlapped_iteration(
                        learner, cfg, envs, device, iterations, rollout_stop)
                    if c.rollout_step:
                        break  # stopped mid-rollout: the checkpoint keeps it, and the actor that collected it
                else:
                    if cfg.ppo.anneal_lr and c.rollout_step == 0:
                        anneal_learning_rate(learner, cfg, iterations)
                    t0 = time.monotonic()
                    c.rollout_step, c.global_step = collect_rollout(
                        learner.policy, envs, learner.rollout, learner.carry, c.rollout_step, learner.stats,
                        c.global_step, rollout_stop,
                    )
                    if c.rollout_step < cfg.ppo.num_steps:
                        break  # stopped mid-rollout: the checkpoint below keeps the partial rollout
                    t1 = time.monotonic()
                    losses = update(learner, cfg, ranks)
                    c.iteration += 1
                    c.rollout_step = 0
                    rollout_seconds, update_seconds = t1 - t0, time.monotonic() - t1

                sps = (c.global_step - start_step) / max(time.monotonic() - start_time, 1e-9)
                speed["sps"] = sps * ranks.world
                scalars = build_scalars(losses, learner, envs, sps, rollout_seconds, update_seconds)
                scalars.update(report_new_milestones(envs, cfg.num_envs, logger, ranks.world))
                scalars = distributed.reduce_scalars(ranks, scalars)
                step = c.global_step * ranks.world  # env steps of all ranks
                if ranks.main:
                    write_clips(envs, cfg.run_dir, cfg.num_envs * ranks.world)
                    if cfg.eval_interval and c.iteration % cfg.eval_interval == 0:
                        scalars.update(run_evaluation(local, learner, envs, device))
                    logger.log(scalars, step)
                    if cfg.map_png_iterations and c.iteration % cfg.map_png_iterations == 0:
                        write_map(envs, cfg.run_dir)
                    logger.status(step, learner.stats.last | scalars)

                    if schedule.due(c):
                        logger.flush()
                        last_path = save_checkpoint(cfg, learner, envs, ranks.world)
                        schedule.saved(c)
                if distributed.any_rank(ranks, stop.is_set()):
                    stop.set()

            drained = {}
            if c.iteration >= iterations:  # the last rollout's update (with overlap it is still pending)
                drained = drain_overlap(learner, cfg, device, iterations)
                losses = drained or losses
            if (schedule.unsaved(c) or drained) and ranks.main:
                logger.flush()
                last_path = save_checkpoint(cfg, learner, envs, ranks.world)
        stopped = c.iteration < iterations
        if ranks.active:
            digest = distributed.weights_digest(learner.policy)
            same = distributed.digests_agree(ranks, digest)
            logger.message(f"{ranks.world} ranks: weights {'identical on every rank' if same else 'DIFFER between ranks'}"
                           f" (sha256 {digest[:16]})")
        progress = write_progress(cfg, learner, logger, envs, ranks.world) if ranks.main else {}
        if stopped:
            reason = f"{signals.received}: " if signals.received else ""
            logger.message(f"{reason}stopped at step {c.global_step * ranks.world} and saved a checkpoint; continue "
                           f"with: python -m pokerl_fast.train --resume {cfg.run_dir}")
        return {
            "run_dir": cfg.run_dir,
            "global_step": c.global_step * ranks.world,
            "iteration": c.iteration,
            "stopped": stopped,
            "checkpoint": str(last_path) if last_path else None,
            "losses": losses,
            "scalars": scalars,
            "stats": dict(learner.stats.last),
            "best": dict(learner.stats.best),
            "progress": progress,
        }
    finally:
        if live is not None:
            live.close()
        if logger is not None:
            logger.close()
        envs.close()
        distributed.shutdown(ranks)
