"""Learning from one rollout while the envs collect the next (``--overlap``): the update runs on a thread of its
own (and its own CUDA stream) with the rollout just finished, while the envs act with a copy of the weights one
update behind; the last rollout's update runs alone at the end."""

from __future__ import annotations

import threading
import time

import torch

from pokerl_fast.config import TrainConfig
from pokerl_fast.learn.ppo import collect_rollout
from pokerl_fast.run.learner import Learner, anneal_learning_rate, update


class UpdateWorker(threading.Thread):
    """One PPO update on a thread of its own (overlap): torch releases the GIL in its kernels and the native env
    step releases it too, so the update and the next rollout run at once. ``join()`` returns the losses (or
    raises what the update raised)."""

    def __init__(self, learner: Learner, cfg: TrainConfig, device: torch.device):
        super().__init__(name="pokerl-update", daemon=True)
        self.learner, self.cfg, self.device = learner, cfg, device
        self.losses: dict[str, float] = {}
        self.error: BaseException | None = None
        ov = learner.overlap
        if ov.stream is not None:  # the pending rollout was written on the default stream
            ov.stream.wait_stream(torch.cuda.current_stream(device))

    def run(self) -> None:
        ov = self.learner.overlap
        try:
            if ov.stream is not None:
                torch.cuda.set_device(self.device)
                with torch.cuda.stream(ov.stream):
                    self.losses = update(self.learner, self.cfg, buf=ov.pending, carry=ov.pending_carry,
                                         generator=ov.generator)
            else:
                self.losses = update(self.learner, self.cfg, buf=ov.pending, carry=ov.pending_carry,
                                     generator=ov.generator)
        except BaseException as e:  # noqa: BLE001 - handed to the main thread by join()
            self.error = e

    def join(self, timeout: float | None = None) -> dict[str, float]:
        super().join(timeout)
        if self.error is not None:
            raise self.error
        if self.learner.overlap.stream is not None:  # the actor's copy of the weights waits for the update
            torch.cuda.current_stream(self.device).wait_stream(self.learner.overlap.stream)
        return self.losses


def overlapped_iteration(learner: Learner, cfg: TrainConfig, envs, device: torch.device, num_iterations: int,
                         stop: threading.Event) -> tuple[dict[str, float], float, float]:
    """Collect a rollout with the acting policy while the pending rollout (if any) is learned from; then the
    actor takes the new weights and the fresh rollout becomes the pending one. Returns (losses, seconds both ran,
    seconds the update ran past the rollout). A stop mid-rollout still waits for the update and keeps the partial
    rollout (the actor that collected it is checkpointed with it)."""
    c, ov = learner.counters, learner.overlap
    worker = None
    t0 = time.monotonic()
    if ov.has_pending:
        if cfg.ppo.anneal_lr:
            anneal_learning_rate(learner, cfg, num_iterations, updates_done=c.iteration - 1)
        worker = UpdateWorker(learner, cfg, device)
        worker.start()
    c.rollout_step, c.global_step = collect_rollout(
        ov.actor, envs, learner.rollout, learner.carry, c.rollout_step, learner.stats, c.global_step, stop)
    t1 = time.monotonic()
    if worker is not None:
        ov.losses = worker.join()
        ov.has_pending = False
    t2 = time.monotonic()
    if c.rollout_step < cfg.ppo.num_steps:
        return {}, t1 - t0, t2 - t1
    finish_overlapped_rollout(learner)
    losses, ov.losses = ov.losses, {}
    return losses, t1 - t0, t2 - t1


def finish_overlapped_rollout(learner: Learner) -> None:
    """A complete rollout: the actor takes the learner's weights, the rollout becomes the pending one (with the
    carry it ends at), and the learner's buffer is free for the next."""
    c, ov = learner.counters, learner.overlap
    ov.actor.load_state_dict(learner.policy.state_dict())
    learner.rollout, ov.pending = ov.pending, learner.rollout
    for key, tensor in learner.carry.obs.items():
        ov.pending_carry.obs[key].copy_(tensor)
    ov.pending_carry.done.copy_(learner.carry.done)
    for dst, src in zip(ov.pending_carry.lstm, learner.carry.lstm):
        dst.copy_(src)
    ov.has_pending = True
    c.rollout_step = 0
    c.iteration += 1


def drain_overlap(learner: Learner, cfg: TrainConfig, device: torch.device, num_iterations: int) -> dict[str, float]:
    """The last rollout's update, with nothing left to collect beside it."""
    ov = learner.overlap
    if ov is None or not ov.has_pending:
        return {}
    if cfg.ppo.anneal_lr:
        anneal_learning_rate(learner, cfg, num_iterations, updates_done=learner.counters.iteration - 1)
    worker = UpdateWorker(learner, cfg, device)
    worker.start()
    losses = worker.join()
    ov.has_pending = False
    ov.actor.load_state_dict(learner.policy.state_dict())
    return losses
