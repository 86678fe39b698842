"""What a training run may touch, watched from inside a real run through Python's audit hooks (PEP 578): a default
``python -m pokerl_fast.train`` on the test world, then its resume, open no network socket (a library's local
AF_UNIX IPC is allowed, in the temp dir), unpickle nothing, and create,
write, rename or delete nothing outside the run dir and the cache dir. Paths from the config are resolved."""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]

# Runs the trainer's main() with an audit hook that records socket events, unpickling and every filesystem write
# (an open for writing, mkdir, rename/replace, remove, rmdir, rmtree, truncate, chmod) as absolute paths.
WATCHER = r'''
import json, os, sys
record, events = True, []

def _abs(p):
    try:
        return os.path.abspath(os.fsdecode(p))
    except TypeError:
        return None  # a file descriptor

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

def hook(event, args):
    if not record:
        return
    if event.startswith("socket.") and event != "socket.gethostname":  # TensorBoard names its files by host
        # socket.__new__ passes (sock, family, type, proto); bind, connect, sendto, sendmsg pass (sock, address).
        import traceback
        where = " <- ".join(f"{f.filename}:{f.lineno}" for f in reversed(traceback.extract_stack()[:-1][-8:]))
        family = int(args[1]) if event == "socket.__new__" else int(getattr(args[0], "family", -1)) if args else -1
        address = args[1] if event in ("socket.bind", "socket.connect", "socket.sendto") and len(args) > 1 else None
        events.append(["socket", {"event": event, "family": family,
                                  "address": address if isinstance(address, str) else repr(address),
                                  "where": where}])
    elif event == "pickle.find_class":
        events.append(["unpickle", repr(args)])
    elif event == "open":
        path, mode, flags = args
        if (mode and any(c in mode for c in "wax+")) or (flags or 0) & WRITE_FLAGS:
            events.append(["write", _abs(path)])
    elif event in ("os.mkdir", "os.remove", "os.rmdir", "shutil.rmtree", "os.truncate", "os.chmod"):
        events.append(["write", _abs(args[0])])
    elif event == "os.rename":
        events.extend([["write", _abs(args[0])], ["write", _abs(args[1])]])

sys.addaudithook(hook)
import pickle
def refuse(*a, **k):
    raise AssertionError("something was unpickled")
pickle.load = pickle.loads = refuse
from pokerl_fast.train import main
rc = main(sys.argv[2:])
record = False
with open(sys.argv[1], "w") as f:
    json.dump({"rc": rc, "events": [e for e in events if e[1] is not None]}, f)
'''


def _loopback(address: str) -> bool:
    """Whether a bind's address (its repr, e.g. "('::1', 0)") is a loopback address."""
    import ast
    import ipaddress

    try:
        host = ast.literal_eval(address)[0]
        return ipaddress.ip_address(host).is_loopback
    except (ValueError, SyntaxError, TypeError, IndexError):
        return False


def test_loopback_tells_a_local_bind_from_a_reachable_one():
    assert _loopback("('::1', 0)") and _loopback("('127.0.0.1', 8765)")
    assert not _loopback("('0.0.0.0', 8765)") and not _loopback("('', 80)") and not _loopback("('10.0.0.2', 1)")
    assert not _loopback("None") and not _loopback("('::', 0, 0, 0)")


def _watched_run(tmp_path: pathlib.Path, name: str, args: list[str], env: dict) -> dict:
    out = tmp_path / f"{name}.json"
    proc = subprocess.run([sys.executable, "-c", WATCHER, str(out), *args], cwd=tmp_path / "work", env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["rc"] == 0, proc.stderr[-3000:]
    return report


def test_a_run_and_its_resume_open_no_network_socket_unpickle_nothing_and_write_only_run_and_cache_dirs(tmp_path):
    work, cache, systmp = tmp_path / "work", tmp_path / "cache", tmp_path / "systmp"
    work.mkdir()
    systmp.mkdir()
    # Torch writes its compile cache's path into os.environ once computed: a test before this one may have.
    env = {k: v for k, v in os.environ.items() if k not in ("POKERL_ROM", "TORCHINDUCTOR_CACHE_DIR")}
    env.update(POKERL_CACHE_DIR=str(cache), TMPDIR=str(systmp), PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]))
    run_dir = work / "runs" / "r"
    flags = ["--run-dir", "runs/r", "--num-envs", "4", "--no-progress", "--map-png-iterations", "1"]
    reports = [_watched_run(tmp_path, "train", [*flags, "--total-steps", "512"], env),
               _watched_run(tmp_path, "resume", ["--resume", str(run_dir), "--total-steps", "1024", "--no-progress"],
                            env)]

    allowed = (run_dir.resolve(), cache.resolve(), systmp.resolve())
    for report in reports:
        kinds = {e[0] for e in report["events"]}
        # No network: no connection or datagram to any internet address, no name lookup, and nothing bound to
        # an address other machines can reach. An internet socket bound to loopback reaches no network (urllib3,
        # which TensorBoard imports through boto3 where that is installed, binds ::1 once to probe for IPv6).
        # A local (AF_UNIX) socket reaches no network; one bound to a path must lie in the dirs a run may write
        # (a library's IPC in the temp dir), or be abstract.
        sockets = [e[1] for e in report["events"] if e[0] == "socket"]
        internet = (socket.AF_INET, socket.AF_INET6)
        network = [s for s in sockets if s["event"] in ("socket.getaddrinfo", "socket.gethostbyname",
                                                        "socket.gethostbyaddr", "socket.getnameinfo")
                   or s["family"] in internet and s["event"] in ("socket.connect", "socket.sendto", "socket.sendmsg")
                   or s["family"] in internet and s["event"] == "socket.bind" and not _loopback(s["address"])]
        assert network == [], network
        local_paths = [pathlib.Path(s["address"]).resolve() for s in sockets if s["event"] == "socket.bind"
                       and s["family"] == socket.AF_UNIX and s["address"] and not s["address"].startswith("\0")]
        assert all(any(root in p.parents for root in allowed) for p in local_paths), local_paths
        assert {s["family"] for s in sockets} <= {socket.AF_UNIX, socket.AF_NETLINK, *internet}, sockets
        assert "unpickle" not in kinds, [e for e in report["events"] if e[0] == "unpickle"]
        writes = [pathlib.Path(e[1]).resolve() for e in report["events"] if e[0] == "write"]
        outside = [str(p) for p in writes if not any(p == root or root in p.parents for root in allowed)
                   and p != pathlib.Path(os.devnull) and p not in run_dir.parents]  # the run dir's own parents
        assert writes and not outside, outside
    # The system temp dir: only libraries' probes, gone again (PySDL2's library lookup, which PyBoy imports, makes
    # and deletes temp files; torch makes its compile cache folder, empty), never a file of ours.
    left = [str(p.relative_to(systmp)) for p in systmp.rglob("*") if not (p.is_dir() and not any(p.iterdir()))]
    assert left == [], left
    # The run really wrote its outputs and the resume loaded them back.
    assert (run_dir / "config.yaml").is_file() and (run_dir / "explored_map.png").is_file()
    assert len(list((run_dir / "checkpoints").glob("ckpt-*"))) == 2
    assert any(cache.iterdir())  # the test world ROM and its start state, made on first use


def test_paths_from_the_config_are_resolved(tmp_path, monkeypatch):
    """A relative or ``~`` path means what it meant where the run started: config.yaml keeps it absolute, so a
    resume from another folder writes and reads where the first run did."""
    from pokerl_fast.config import TrainConfig
    from pokerl_fast.run.checks import check_inputs
    from pokerl_fast.game.red import start_state
    from pokerl_fast.game.rom import resolve_rom

    home = tmp_path / "home"
    (home / "states").mkdir(parents=True)
    (home / "states" / "s.state").write_bytes(start_state(resolve_rom("testworld").path))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    cfg = TrainConfig(run_dir="runs/../runs/a")
    cfg.env.start_state = "~/states/s.state"
    resolved, _ = check_inputs(cfg, resuming=False)
    assert resolved.run_dir == str(tmp_path / "runs" / "a")
    assert resolved.env.start_state == str(home / "states" / "s.state")
    assert resolved.env.rom is None  # the bundled test world stays a name, not a path
    cfg.env.rom = "testworld"
    assert check_inputs(cfg, resuming=False)[0].env.rom == "testworld"
    (tmp_path / "roms").mkdir()
    (tmp_path / "roms" / "w.gb").write_bytes(resolve_rom("testworld").path.read_bytes())
    cfg.env.rom = "roms/./w.gb"
    assert check_inputs(cfg, resuming=False)[0].env.rom == str(tmp_path / "roms" / "w.gb")
    assert not (tmp_path / "runs").exists()  # checked, not created
