"""Data-parallel PPO over ranks started by ``torchrun`` (CleanRL's ppo_multigpu recipe, on torch.distributed).

Every rank steps its own envs and computes its own gradients; after each backward pass the gradients are
averaged over the ranks with one ``all_reduce`` of a flat buffer, so every rank takes the same optimizer step
and the weights stay identical (they start identical: rank 0's are broadcast). Decisions that end a loop
(PPO's target-KL early stop, a stop signal) are agreed by all ranks, so no rank waits in a collective another
has left. Scalars for logging are averaged (speeds summed) over ranks. Without torchrun (no ``WORLD_SIZE`` in
the environment) everything here is a no-op with world size 1.

Only tensors cross between ranks (JSON text as uint8 tensors for the scalars' names): nothing is pickled.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        """Rank 0: the one that logs, evaluates and writes checkpoints."""
        return self.rank == 0


def from_environment() -> Ranks:
    """The ranks torchrun describes in the environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks()
    return Ranks(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")),
                 int(os.environ.get("LOCAL_WORLD_SIZE", str(world))))


def restart_count() -> int:
    """How many times torchrun restarted this job (--max-restarts); 0 on the first attempt or without torchrun."""
    return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))


def init(ranks: Ranks, device: torch.device) -> None:
    """Join the process group: NCCL for CUDA, gloo on CPU."""
    if ranks.active and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def shutdown(ranks: Ranks) -> None:
    if ranks.active and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_module(ranks: Ranks, module: torch.nn.Module) -> None:
    """Every rank takes rank 0's parameters and buffers."""
    if ranks.active:
        for t in [*module.parameters(), *module.buffers()]:
            dist.broadcast(t.data, src=0)


def average_gradients(ranks: Ranks, params) -> None:
    """Replace each parameter's gradient with its mean over the ranks (one all_reduce of a flat buffer)."""
    if not ranks.active:
        return
    grads = [p.grad for p in params if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= ranks.world
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def any_rank(ranks: Ranks, flag: bool) -> bool:
    """True on every rank when it is true on any."""
    if not ranks.active:
        return flag
    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def _all_gather_bytes(ranks: Ranks, data: bytes) -> list[bytes]:
    n = torch.tensor([len(data)], dtype=torch.int64)
    sizes = [torch.zeros(1, dtype=torch.int64) for _ in range(ranks.world)]
    dist.all_gather(sizes, n)
    top = int(max(s.item() for s in sizes))
    buf = torch.zeros(top, dtype=torch.uint8)
    buf[:len(data)] = torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else buf[:0]
    out = [torch.zeros(top, dtype=torch.uint8) for _ in range(ranks.world)]
    dist.all_gather(out, buf)
    return [bytes(o[:int(s.item())].tolist()) for o, s in zip(out, sizes)]


SUMMED = ("charts/SPS",)
"""Scalars summed over ranks (throughput); every other scalar is averaged over the ranks that have it, but for
MINIMUM ones."""
MINIMUM = ("milestones/first_",)
"""Prefixes of scalars that take the smallest value over the ranks that have it (the first step any rank...)."""


def reduce_scalars(ranks: Ranks, scalars: dict[str, float]) -> dict[str, float]:
    """The scalars of all ranks, averaged per name over the ranks that logged it (SUMMED ones added)."""
    if not ranks.active:
        return scalars
    names = sorted({k for raw in _all_gather_bytes(ranks, json.dumps(sorted(scalars)).encode())
                    for k in json.loads(raw)})
    values = torch.tensor([float(scalars.get(k, 0.0)) for k in names], dtype=torch.float64)
    present = torch.tensor([1.0 if k in scalars else 0.0 for k in names], dtype=torch.float64)
    lowest = torch.tensor([float(scalars.get(k, float("inf"))) for k in names], dtype=torch.float64)
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    dist.all_reduce(present, op=dist.ReduceOp.SUM)
    dist.all_reduce(lowest, op=dist.ReduceOp.MIN)
    out = {}
    for k, v, p, low in zip(names, values.tolist(), present.tolist(), lowest.tolist()):
        out[k] = float(v) if k in SUMMED else low if k.startswith(MINIMUM) else float(v / max(p, 1.0))
    return out


def weights_digest(module: torch.nn.Module) -> str:
    """SHA-256 of the parameters' bytes, in order: equal on every rank when they hold the same weights."""
    import hashlib

    h = hashlib.sha256()
    for p in module.parameters():
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def digests_agree(ranks: Ranks, digest: str) -> bool:
    if not ranks.active:
        return True
    return len(set(_all_gather_bytes(ranks, digest.encode()))) == 1
