"""Process-wide settings that keep training fast on a machine it shares: how many CPUs this process may use,
how long OpenMP threads spin while they wait, and how glibc's malloc hands memory back.

Measured on the 2-core machine (default training, test world, 20,480 steps; steps/s alone -> beside one
busy-looping process): libgomp's default (threads spin 300,000 iterations before they sleep) 714 -> 197 (0.28);
spin 30,000: 691 -> 167; 10,000: 634 -> 217; 3,000: 624 -> 324 (0.52); 1,000: 570 -> 342; OMP_WAIT_POLICY=PASSIVE
(no spin): 450 -> 385. Spinning OpenMP threads (the emulator loop and torch's intra-op pool share one libgomp)
burn the time slices the other process and their own team need; never spinning makes every parallel region of
the forward pay a wake-up. ``tune_openmp`` picks a short spin (``GOMP_SPINCOUNT=3000``) unless the user chose a
wait policy or a spin count. libgomp reads both when it loads (with torch), so it must run before torch is
imported; ``python -m pokerl_fast.train`` does that first thing. On a machine that does nothing else,
``OMP_WAIT_POLICY=ACTIVE`` (or ``GOMP_SPINCOUNT=300000``) is ~15% faster.

The update's activations (tens of MB) are freed and allocated again every minibatch. glibc mmaps blocks above
its dynamic threshold and returns freed heap tops beyond its trim threshold to the system, so each minibatch
faulted its pages in again (~100 minor page faults per env step). ``keep_freed_memory`` fixes both thresholds
(``mallopt``) so freed blocks are reused instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
from pathlib import Path

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
"""glibc's largest allowed mmap threshold (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit)"""
TRIM_THRESHOLD = 512 << 20
"""freed memory at the heap top kept for reuse before glibc returns it to the system"""


def cgroup_cpu_limit(root: str | Path = "/sys/fs/cgroup") -> float | None:
    """CPUs allowed by this process's cgroup CPU quota (v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``), or None."""
    root = Path(root)
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None


def cpu_runs_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes bfloat16 in hardware: AVX512-BF16 or AMX-BF16 among the flags Linux lists in
    /proc/cpuinfo (``cpuinfo``: that file's text, for tests). False where the file cannot be read."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return bool({"avx512_bf16", "amx_bf16"} & flags)
    return False


def available_cpus() -> int:
    """CPUs this process may run on: its affinity mask, capped by a cgroup CPU quota (rounded up), at least 1."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    if limit is not None:
        n = min(n, math.ceil(limit))
    return max(1, n)


def cgroup_memory_left(root: str | Path = "/sys/fs/cgroup") -> int | None:
    """Bytes this process's cgroup may still take (v2 ``memory.max - memory.current``, v1 ``limit - usage``),
    or None without a limit."""
    root = Path(root)
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            limit = (root / limit_file).read_text().strip()
            usage = int((root / usage_file).read_text())
        except (OSError, ValueError):
            continue
        if limit == "max" or not limit.isdigit() or int(limit) >= 1 << 60:  # v1 writes "no limit" as ~2**63
            return None
        return max(0, int(limit) - usage)
    return None


def available_memory(meminfo: str | Path = "/proc/meminfo", cgroup_root: str | Path = "/sys/fs/cgroup") -> int | None:
    """Bytes a new allocation can get without swapping: the kernel's MemAvailable, capped by what the cgroup
    limit leaves; None when neither is known."""
    free = None
    try:
        for line in Path(meminfo).read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    left = cgroup_memory_left(cgroup_root)
    if left is not None:
        free = left if free is None else min(free, left)
    return free


SPIN_COUNT = "3000"
"""iterations an OpenMP thread spins before it sleeps (libgomp's GOMP_SPINCOUNT; its own default is 300,000)"""


def tune_openmp() -> bool:
    """Keep OpenMP's spin short (see the module docstring), unless the user set OMP_WAIT_POLICY or
    GOMP_SPINCOUNT. Returns whether it set anything. Has no effect once libgomp is loaded (import torch after)."""
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return False
    os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
    return True


def keep_freed_memory() -> bool:
    """Fix glibc's mmap and trim thresholds so the update's freed activations are reused without page faults.
    Returns False where there is no glibc (nothing changed)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
