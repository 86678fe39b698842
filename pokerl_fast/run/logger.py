"""Training output: episode statistics, a rich progress bar, TensorBoard, and (only when asked) Weights & Biases.

``EpisodeStats`` turns the vector env's per-step ``info`` into numbers worth logging: finished-episode returns and
lengths, each reward term's per-episode sum, and milestones (events, required events, badges) with the global step
at which each new level was first reached by any env; per named milestone (each required event and badge), the
mean episode step at which ended episodes reached it (``episode/milestone_step/<NAME>``) and the share that did
(``episode/milestone_rate/<NAME>``), counting only episodes that earned it (not the ones that started holding it,
as swarming and reset_to_archive episodes do). The share of ended episodes that ended stuck is
``episode/stuck_end``.

``EpisodeStats`` keeps a ``ProgressTally`` (env/tally.py: the run-wide account users read at the end) for the
run (checkpointed, so exact across ``--resume``) and logs it after every update as ``progress/reach_rate/<NAME>``, ``progress/median_steps/<NAME>``, ``progress/map_share/<MAP>`` and
``progress/stuck_share``; the trainer prints its table and writes it to ``run_dir/progress.json`` at the end.

``RunLogger`` writes scalars with CleanRL's names to TensorBoard in the run directory, mirrors them to W&B when
``--wandb`` is given (``wandb`` is imported only then, and nothing touches the network otherwise), and draws a
progress bar when stdout is a terminal; otherwise it prints a plain status line every ``plain_every_s`` seconds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from pokerl_fast.env.tally import ProgressTally

MILESTONES = ("events", "required_events", "badges")
"""info keys whose maximum over envs is tracked, with the step at which each new value was first seen"""
EPISODE_KEYS = ("events", "required_events", "badges", "explore", "levels")
"""info keys averaged over finished episodes (value at the episode's last step)"""


class LoggerError(RuntimeError):
    """A logging backend cannot start; the message says how to fix it."""


class EpisodeStats:
    """Accumulates per-step vector-env infos between two :meth:`drain` calls."""

    def __init__(self, reward_terms: tuple[str, ...] = (), milestone_names: tuple[str, ...] = ()):
        self.reward_terms = tuple(reward_terms)
        self.milestone_names = tuple(milestone_names)
        """names of the columns of info["final"]["milestone_steps"] (per ended episode: step each was reached, 0 held
        at the start, -1 not)"""
        self._term_keys = tuple(f"reward/{t}" for t in self.reward_terms)
        self.tally = ProgressTally(self.milestone_names)
        """the run's progress account (survives drains, saved in checkpoints)"""
        self.best: dict[str, float] = {}
        """best value of each milestone seen in the run so far (survives drains, saved in checkpoints)"""
        self.first_step: dict[str, dict[int, int]] = {}
        """milestone -> {value: global step at which some env first reached it}"""
        self._new_firsts: list[tuple[str, int, int]] = []
        self._ended: dict[str, list[float]] = {}
        self.last: dict[str, float] = {}
        """latest per-iteration summary (for the progress bar)"""

    def record(self, reward: np.ndarray, info: dict[str, Any], global_step: int) -> None:
        # At an episode end the env has already reset the ended envs' arrays (same-step autoreset);
        # info["final"] holds the ended episodes' values.
        final = info.get("final") or {}
        # the map each env ended the step on (the ended envs' arrays were already reset: "final" has their last)
        last = final or info
        if "map" in last:
            self.tally.add_steps(last["map"], last.get("stuck"))
        for key in MILESTONES:
            sources = [info[key]] if key in info else []
            if key in final:
                sources.append(final[key])
            if sources:
                value = float(max(np.max(v) for v in sources))
                if value > self.best.get(key, -np.inf):
                    firsts = self.first_step.setdefault(key, {})
                    for level in range(int(self.best.get(key, 0)) + 1, int(value) + 1):
                        if level not in firsts:
                            firsts[level] = global_step
                            self._new_firsts.append((key, level, global_step))
                    self.best[key] = value
        mask = info.get("_episode")
        if mask is not None and np.any(mask):
            mask = np.asarray(mask, dtype=bool)
            for key in ("episode_return", "episode_length", *EPISODE_KEYS, *self._term_keys):
                source = final if key in final else info
                if key in source:
                    self._ended.setdefault(key, []).extend(np.asarray(source[key])[mask].astype(float).tolist())
            if "stuck" in final:
                ended_stuck = np.asarray(final["stuck"])[mask]
                self._ended.setdefault("stuck_end", []).extend(ended_stuck.astype(float).tolist())
            if "milestone_steps" in final and self.milestone_names:
                # Imported here, at episode ends only: importing the env layer loads the emulator bindings.
                from pokerl_fast.env.progress import earned, steps_by_milestone

                rows = np.asarray(final["milestone_steps"])[mask]
                self.tally.add_episodes(rows, np.asarray(final["stuck"])[mask] if "stuck" in final else None)
                self._ended.setdefault("episodes_with_milestones", []).extend([1.0] * len(rows))
                for name, steps in steps_by_milestone(earned(rows), self.milestone_names):
                    self._ended.setdefault(f"milestone_step/{name}", []).extend(steps.astype(float).tolist())

    def drain(self) -> dict[str, float]:
        """Scalars since the last drain: means over finished episodes, milestone bests, first-reached steps."""
        out: dict[str, float] = {}
        names = {"episode_return": "charts/episodic_return", "episode_length": "charts/episodic_length"}
        episodes = len(self._ended.get("episodes_with_milestones", []))
        for key, values in self._ended.items():
            if key == "episodes_with_milestones" or not values:
                continue
            name = names.get(key, key if key.startswith("reward/") else f"episode/{key}")
            out[name] = float(np.mean(values))
            if key.startswith("milestone_step/") and episodes:
                # the share of the ended episodes that reached it (the mean above is over those only)
                out[f"episode/milestone_rate/{key.split('/', 1)[1]}"] = len(values) / episodes
        out["charts/episodes"] = float(len(self._ended.get("episode_return", [])))
        out.update(self.tally.scalars("progress"))
        for key, value in self.best.items():
            out[f"milestones/{key}"] = value
        for key, level, step in self._new_firsts:
            out[f"milestones/{key}_first_step/{level}"] = float(step)
        self._ended.clear()
        self._new_firsts.clear()
        self.last.update(out)
        return out

    def state_dict(self) -> dict:
        return {
            "best": dict(self.best),
            "first_step": {k: {str(level): step for level, step in v.items()} for k, v in self.first_step.items()},
            "last": dict(self.last),
            "ended": {k: list(v) for k, v in self._ended.items()},
            "new_firsts": [list(x) for x in self._new_firsts],
            "tally": self.tally.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.best = {k: float(v) for k, v in state["best"].items()}
        self.first_step = {k: {int(level): int(s) for level, s in v.items()} for k, v in state["first_step"].items()}
        self.last = dict(state.get("last", {}))
        self._ended = {k: list(v) for k, v in state.get("ended", {}).items()}
        self._new_firsts = [(str(k), int(level), int(step)) for k, level, step in state.get("new_firsts", [])]
        self.tally = ProgressTally(self.milestone_names)
        if "tally" in state:  # checkpoints from before the tally start it empty
            self.tally.load_state_dict(state["tally"])


class RunLogger:
    """TensorBoard (+ optional W&B) scalars and a progress display for one run."""

    def __init__(
        self,
        run_dir: str | Path,
        total_steps: int,
        start_step: int = 0,
        *,
        tensorboard: bool = True,
        wandb: bool = False,
        wandb_project: str = "pokerl_fast",
        config: dict | None = None,
        progress: bool = True,
        plain_every_s: float = 10.0,
        stream=None,
    ):
        self.run_dir = Path(run_dir)
        self.total_steps = total_steps
        self.stream = stream or sys.stdout
        self.plain_every_s = plain_every_s
        self._last_plain = 0.0
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step drops events a killed run wrote after its last checkpoint (steps > start_step), so
            # resumed curves do not overlap stale ones.
            self.writer = SummaryWriter(str(self.run_dir), purge_step=start_step + 1 if start_step > 0 else None)
        self.wandb = None
        if wandb:
            try:
                import wandb as wandb_module
            except ImportError:
                raise LoggerError("--wandb needs the wandb package: pip install 'pokerl_fast[wandb]'") from None
            self.wandb = wandb_module
            self.wandb.init(
                project=wandb_project, config=config or {}, dir=str(self.run_dir), name=self.run_dir.name, resume="allow"
            )
        self.progress = None
        isatty = getattr(self.stream, "isatty", lambda: False)()
        if progress and isatty:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn("[bold]train"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[status]}"),
                console=Console(file=self.stream),
                refresh_per_second=4,
            )
            self.progress.start()
            self.task = self.progress.add_task("train", total=total_steps, completed=start_step, status="starting")

    def log(self, scalars: dict[str, float], step: int) -> None:
        if self.writer is not None:
            for name, value in scalars.items():
                self.writer.add_scalar(name, value, step)
        if self.wandb is not None:
            self.wandb.log(dict(scalars), step=step)

    def status(self, step: int, summary: dict[str, float]) -> None:
        """Update the progress bar (or print a plain line now and then)."""
        parts = [f"{summary.get('charts/SPS', 0):.0f} steps/s"]
        if "charts/episodic_return" in summary:
            parts.append(f"return {summary['charts/episodic_return']:.2f}")
        for key, label in (("events", "events"), ("required_events", "required"), ("badges", "badges")):
            if f"milestones/{key}" in summary:
                parts.append(f"{label} {summary[f'milestones/{key}']:.0f}")
        text = "  ".join(parts)
        if self.progress is not None:
            self.progress.update(self.task, completed=min(step, self.total_steps), status=text)
            return
        now = time.monotonic()
        if now - self._last_plain >= self.plain_every_s or step >= self.total_steps:
            self._last_plain = now
            print(f"step {step}/{self.total_steps}  {text}", file=self.stream, flush=True)

    def message(self, text: str) -> None:
        if self.progress is not None:
            self.progress.console.print(text)
        else:
            print(text, file=self.stream, flush=True)

    def flush(self) -> None:
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.wandb is not None:
            self.wandb.finish()
            self.wandb = None
