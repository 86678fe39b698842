"""The trainer's command line: ``python -m pokerl_fast.train [--config FILE.yaml] [--resume RUN_DIR] [--OPTION
VALUE ...]``. Config layering, later wins: defaults < the resumed run's config < ``--config file.yaml`` <
command-line flags; a resume is checked against its checkpoint (config, ROM, rank count) before anything starts."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from pokerl_fast import cli
from pokerl_fast.config import TrainConfig
from pokerl_fast.game.red import StartStateError
from pokerl_fast.game.rom import RomError
from pokerl_fast.learn import checkpoint, distributed
from pokerl_fast.run.checks import RESUMABLE_CHANGES, TrainError, check_resume, check_rom
from pokerl_fast.run.logger import LoggerError
from pokerl_fast.run.outputs import LIVE_MAP_PORT
from pokerl_fast.run.train import train


PROG = "python -m pokerl_fast.train"
DESCRIPTION = """\
Train a recurrent PPO agent on the bundled test world, or on your Pokemon Red with --rom PATH.
Ctrl-C saves a checkpoint; --resume RUN_DIR continues it. Options layer, later wins:
defaults < the resumed run's config < --config FILE.yaml < the flags below."""


def head_options() -> argparse.ArgumentParser:
    """The options that are not config fields; every config field is a flag too (cli.parse_flags, by tyro)."""
    head = argparse.ArgumentParser(add_help=False)
    head.add_argument("--config", metavar="FILE.yaml",
                      help="YAML file of option values (sections as mappings, e.g. ppo: {gamma: 0.99})")
    head.add_argument("--resume", metavar="RUN_DIR",
                      help="continue the run in RUN_DIR from its newest complete checkpoint; only "
                           + ", ".join(sorted(RESUMABLE_CHANGES)) + " may differ from the saved config")
    head.add_argument("--live-map", nargs="?", const=LIVE_MAP_PORT, type=int, metavar="PORT",
                      help=f"serve a live map of the run on http://127.0.0.1:PORT/ (default {LIVE_MAP_PORT}; 0: any "
                           "free port); same as --live-map-port")
    return head


def config_from_args(argv: list[str] | None = None) -> tuple[TrainConfig, checkpoint.Checkpoint | None]:
    """Parse the command line into a resolved config and, with --resume, the checkpoint to continue from."""
    argv = sys.argv[1:] if argv is None else argv
    ns, overrides = cli.parse_flags(TrainConfig, argv, prog=PROG, description=DESCRIPTION, head=head_options())
    if ns.live_map is not None:
        overrides["live_map_port"] = ns.live_map
    cfg = TrainConfig()
    ckpt = None
    saved = None
    if not ns.resume and distributed.restart_count() > 0 and overrides.get("run_dir"):
        # torchrun --max-restarts started this job again after a rank failed: continue from the last checkpoint.
        if checkpoint.latest(Path(overrides["run_dir"]) / "checkpoints") is not None:
            ns.resume = overrides["run_dir"]
            print(f"torchrun restart {distributed.restart_count()}: resuming {ns.resume}", file=sys.stderr)
    if ns.resume:
        skipped: list[str] = []  # damaged checkpoints newer than the one resumed, newest first
        if not Path(ns.resume).is_dir():
            raise TrainError(f"cannot resume {ns.resume}: no such run dir; pass the --run-dir of an earlier run")
        ckpt = checkpoint.latest(Path(ns.resume) / "checkpoints", skipped)
        if ckpt is None:
            why = f" (skipped {len(skipped)}; the newest, {skipped[0]})" if skipped else ""
            raise TrainError(
                f"cannot resume {ns.resume}: no valid checkpoint in {Path(ns.resume) / 'checkpoints'}{why}; "
                "start a new run with --run-dir instead"
            )
        for reason in skipped:
            print(f"skipping {reason}; resuming from {ckpt.path.name}", file=sys.stderr)
        saved = ckpt.meta["config"]
        cfg = cli.merge(cfg, saved, "checkpoint config")
    if ns.config:
        cfg = cli.merge(cfg, cli.load_yaml(ns.config), ns.config)
    cfg = cli.merge(cfg, overrides, "command line")
    if ns.resume:
        if overrides.get("run_dir") not in (None, ns.resume) and Path(overrides["run_dir"]) != Path(ns.resume):
            raise TrainError("--resume RUN_DIR continues in RUN_DIR; drop --run-dir")
        cfg = dataclasses.replace(cfg, run_dir=ns.resume)
        check_resume(saved, cli.to_dict(cfg), ns.resume)
        world = distributed.from_environment().world
        if ckpt.meta.get("ranks", 1) != world:
            n = ckpt.meta.get("ranks", 1)
            how = f"torchrun --nproc-per-node {n} -m pokerl_fast.train --resume {ns.resume}" if n > 1 else \
                f"python -m pokerl_fast.train --resume {ns.resume}"
            raise TrainError(f"cannot resume {ns.resume} with {world} rank(s): it was trained with {n}; run: {how}")
        check_rom(ckpt.meta["rom_sha1"], cfg.env.rom, ns.resume)
    return cfg, ckpt


def main(argv: list[str] | None = None) -> int:
    def body():
        cfg, ckpt = config_from_args(argv)
        train(cfg, resume=ckpt)

    return cli.run_main(body, (TrainError, cli.ConfigError, checkpoint.CheckpointError, RomError, StartStateError,
                               LoggerError), "interrupted; the newest complete checkpoint is kept")
