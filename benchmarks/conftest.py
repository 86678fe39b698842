"""Shared benchmark plumbing: every benchmark reports a ratio against a baseline measured in
the same run, and the ratios are printed together at the end of `pytest --benchmark-only`."""

import time

import pytest

_REPORT: list[tuple[str, str]] = []


@pytest.fixture
def report(benchmark):
    """report(name, value, fmt="{:.3f}", note="") records a figure for the summary and the JSON."""

    def _report(name, value, fmt="{:.3f}", note=""):
        benchmark.extra_info[name] = value
        _REPORT.append((name, fmt.format(value) + (f"  ({note})" if note else "")))

    return _report


def rate(fn, seconds=1.0, min_calls=3):
    """Calls per second of fn() over about `seconds` of wall time (after one warm-up call)."""
    fn()
    n = 0
    start = time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and n >= min_calls:
            return n / elapsed


def best_rates(fns, rounds=5, seconds=0.4):
    """Best calls/s of each fn over `rounds` interleaved rounds: on a shared machine the best round is the
    one least disturbed by other load, and interleaving exposes every fn to the same conditions."""
    best = [0.0] * len(fns)
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            best[k] = max(best[k], rate(fn, seconds))
    return best


def pytest_terminal_summary(terminalreporter):
    if not _REPORT:
        return
    terminalreporter.section("pokerl_fast ratios (measured in this run)")
    width = max(len(n) for n, _ in _REPORT)
    for name, text in _REPORT:
        terminalreporter.write_line(f"{name:<{width}}  {text}")


def pytest_collection_modifyitems(config, items):
    """Benchmarks run with `pytest --benchmark-only`; the plain test run deselects them."""
    if config.getoption("benchmark_only", False):
        return
    keep, drop = [], []
    for item in items:
        (drop if "benchmarks" in item.path.parts else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
