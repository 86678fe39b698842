"""Process-wide settings: CPUs from the affinity mask and cgroup quota, OpenMP's spin set before torch loads,
glibc's malloc thresholds."""

import os
import subprocess
import sys

import pytest

from pokerl_fast import runtime


@pytest.mark.parametrize("text, cpus", [("150000 100000\n", 1.5), ("max 100000\n", None), ("200000 100000", 2.0)])
def test_cgroup_v2_quota_is_read(tmp_path, text, cpus):
    (tmp_path / "cpu.max").write_text(text)
    assert runtime.cgroup_cpu_limit(tmp_path) == cpus


def test_cgroup_v1_quota_is_read_and_no_cgroup_means_no_limit(tmp_path):
    assert runtime.cgroup_cpu_limit(tmp_path) is None
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert runtime.cgroup_cpu_limit(tmp_path) == 0.5
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert runtime.cgroup_cpu_limit(tmp_path) is None


def run_python(code: str, env: dict | None = None, cpus: set[int] | None = None) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=clean | (env or {}), capture_output=True, text=True, timeout=120,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_threads_follow_the_affinity_mask_not_the_machine():
    """Pinned to one CPU, the emulator loop and torch both use one thread (os.cpu_count() still says more)."""
    code = (
        "import os, torch\n"
        "from pokerl_fast.config import EnvConfig\n"
        "from pokerl_fast.config import TrainConfig\n"
        "from pokerl_fast.run.checks import configure_torch\n"
        "configure_torch(TrainConfig(device='cpu'))\n"
        "print(EnvConfig().threads_for(16), torch.get_num_threads(), os.cpu_count())"
    )
    first_cpu = min(os.sched_getaffinity(0))
    assert run_python(code, cpus={first_cpu}).split()[:2] == ["1", "1"]
    n = len(os.sched_getaffinity(0))
    assert run_python(code).split()[:2] == [str(min(n, 16)), str(n)]


SPIN_AT_TORCH_IMPORT = """
import builtins, os
seen = []
real_import = builtins.__import__
def spy(name, *args, **kwargs):
    if name == "torch" and not seen:
        seen.append(os.environ.get("GOMP_SPINCOUNT"))
    return real_import(name, *args, **kwargs)
builtins.__import__ = spy
import pokerl_fast.train
print(seen[0])
"""


def test_the_trainer_sets_openmp_spin_before_torch_loads_and_keeps_the_users_choice():
    assert run_python(SPIN_AT_TORCH_IMPORT) == runtime.SPIN_COUNT
    assert run_python(SPIN_AT_TORCH_IMPORT, env={"GOMP_SPINCOUNT": "12345"}) == "12345"
    assert run_python(SPIN_AT_TORCH_IMPORT, env={"OMP_WAIT_POLICY": "ACTIVE"}) == "None"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_malloc_thresholds_are_set_on_glibc():
    assert runtime.keep_freed_memory() is True


def test_available_memory_is_memavailable_capped_by_the_cgroup_limit(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:   20000000 kB\n")
    v2 = tmp_path / "v2"
    v2.mkdir()
    assert runtime.available_memory(meminfo, v2) == 20000000 * 1024  # no cgroup files: no cap
    (v2 / "memory.max").write_text("max\n")
    (v2 / "memory.current").write_text("1000\n")
    assert runtime.cgroup_memory_left(v2) is None
    (v2 / "memory.max").write_text(f"{4 << 30}\n")
    (v2 / "memory.current").write_text(f"{1 << 30}\n")
    assert runtime.cgroup_memory_left(v2) == 3 << 30
    assert runtime.available_memory(meminfo, v2) == 3 << 30
    v1 = tmp_path / "v1" / "memory"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text(f"{2**63 - 4096}\n")  # v1's "no limit"
    (v1 / "memory.usage_in_bytes").write_text("5\n")
    assert runtime.cgroup_memory_left(v1.parent) is None
    (v1 / "memory.limit_in_bytes").write_text(f"{2 << 30}\n")
    assert runtime.cgroup_memory_left(v1.parent) == (2 << 30) - 5
    assert runtime.available_memory(tmp_path / "none", tmp_path / "none") is None


@pytest.mark.parametrize("flags, want", [("fpu avx2 avx512f avx512_bf16 sse", True), ("fpu amx_bf16 amx_tile", True),
                                         ("fpu avx2 avx512f avx512_vnni", False), ("", False)])
def test_bf16_hardware_is_read_from_the_cpu_flags(flags, want):
    text = f"processor\t: 0\nmodel name\t: x\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n"
    assert runtime.cpu_runs_bf16(text) is want
    assert runtime.cpu_runs_bf16("processor\t: 0\n") is False  # no flags line
