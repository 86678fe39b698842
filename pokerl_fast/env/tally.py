"""The progress account users read, from numpy arrays only: ``ProgressTally`` keeps, for a run or one
evaluation, per milestone the share of ended episodes that earned it and the median step at which they did, the
share of env steps spent on each map and the stuck share; ``summary_scalars`` names its figures for TensorBoard
(``progress/...``, ``eval/...``) and ``format_progress_table`` prints them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NUM_MAP_IDS = 256


def map_name(map_id: int) -> str:
    """The map's name (``constants.MAPS``), or MAP_<id> for an id without one."""
    global _MAP_NAMES
    if _MAP_NAMES is None:
        from pokerl_fast.game.constants import MAPS

        _MAP_NAMES = {m[0]: m[1] for m in MAPS}
    return _MAP_NAMES.get(int(map_id), f"MAP_{int(map_id)}")


_MAP_NAMES: dict[int, str] | None = None


class ProgressTally:
    """Run-wide (or one evaluation's) progress as users read it, from numpy arrays only.

    ``add_episodes`` takes ended episodes' milestone rows (``(episodes, len(names))`` steps of the episode: > 0
    earned at that step, 0 held at the start, -1 not reached); ``add_steps`` takes one vector step's map ids
    (and stuck flags), counted with ``np.bincount``. ``summary`` is the JSON-able account, ``scalars`` the same
    numbers as TensorBoard tags.
    """

    def __init__(self, names: tuple[str, ...] = ()):
        self.names = tuple(names)
        self.episodes = 0
        """ended episodes counted"""
        self.earned_steps: list[list[int]] = [[] for _ in self.names]
        """per milestone: the step at which each ended episode that earned it did"""
        self.held_at_start = np.zeros(len(self.names), np.int64)
        """per milestone: ended episodes that started holding it (they could not earn it)"""
        self.map_steps = np.zeros(NUM_MAP_IDS, np.int64)
        """env steps that ended on each map id"""
        self.env_steps = 0
        self.stuck_steps = 0
        """env steps after which the env was stuck"""
        self.stuck_ends = 0
        """ended episodes that ended stuck"""

    def add_episodes(self, rows: np.ndarray, stuck: np.ndarray | None = None) -> None:
        rows = np.asarray(rows).reshape(-1, len(self.names))
        self.episodes += len(rows)
        self.held_at_start += (rows == 0).sum(axis=0)
        for k in np.flatnonzero((rows > 0).any(axis=0)):
            col = rows[:, k]
            self.earned_steps[k].extend(col[col > 0].tolist())
        if stuck is not None:
            self.stuck_ends += int(np.count_nonzero(stuck))

    def add_steps(self, map_ids: np.ndarray, stuck: np.ndarray | None = None) -> None:
        map_ids = np.asarray(map_ids).reshape(-1)
        self.map_steps += np.bincount(map_ids, minlength=NUM_MAP_IDS)[:NUM_MAP_IDS]
        self.env_steps += len(map_ids)
        if stuck is not None:
            self.stuck_steps += int(np.count_nonzero(stuck))

    def summary(self) -> dict[str, Any]:
        """``{"episodes", "env_steps", "milestones": {NAME: {"reach_rate", "median_steps", "reached",
        "held_at_start"}}, "map_share": {MAP: share of env steps}, "stuck_share", "stuck_episode_ends"}``;
        median_steps is None for a milestone no episode earned, rates are 0 with no episodes."""
        milestones = {}
        for k, name in enumerate(self.names):
            steps = self.earned_steps[k]
            milestones[name] = {
                "reach_rate": len(steps) / self.episodes if self.episodes else 0.0,
                "median_steps": float(np.median(steps)) if steps else None,
                "reached": len(steps),
                "held_at_start": int(self.held_at_start[k]),
            }
        total = max(self.env_steps, 1)
        order = np.argsort(-self.map_steps, kind="stable")  # most visited first
        return {
            "episodes": self.episodes,
            "env_steps": self.env_steps,
            "milestones": milestones,
            "map_share": {map_name(i): float(self.map_steps[i]) / total for i in order if self.map_steps[i]},
            "stuck_share": self.stuck_steps / total,
            "stuck_episode_ends": self.stuck_ends,
        }

    def scalars(self, prefix: str = "progress") -> dict[str, float]:
        """The summary as TensorBoard scalars (``summary_scalars``); nothing before the first step."""
        return summary_scalars(self.summary(), prefix) if self.env_steps else {}

    def state_dict(self) -> dict:
        return {"names": list(self.names), "episodes": self.episodes,
                "earned_steps": [list(v) for v in self.earned_steps], "held_at_start": self.held_at_start.tolist(),
                "map_steps": self.map_steps.tolist(), "env_steps": self.env_steps, "stuck_steps": self.stuck_steps,
                "stuck_ends": self.stuck_ends}

    def load_state_dict(self, state: dict) -> None:
        self.names = tuple(state["names"])
        self.episodes = int(state["episodes"])
        self.earned_steps = [[int(x) for x in v] for v in state["earned_steps"]]
        self.held_at_start = np.asarray(state["held_at_start"], np.int64).reshape(len(self.names))
        self.map_steps = np.asarray(state["map_steps"], np.int64).reshape(NUM_MAP_IDS)
        self.env_steps, self.stuck_steps = int(state["env_steps"]), int(state["stuck_steps"])
        self.stuck_ends = int(state["stuck_ends"])


def summary_scalars(summary: dict[str, Any], prefix: str) -> dict[str, float]:
    """A ``ProgressTally.summary`` (or ``evaluate``'s result) as TensorBoard scalars: ``<prefix>/reach_rate/<NAME>``
    and ``<prefix>/median_steps/<NAME>`` for the milestones some episode earned, ``<prefix>/map_share/<MAP>`` for
    the maps visited, ``<prefix>/stuck_share``, ``<prefix>/stuck_episode_ends`` and, for an evaluation,
    ``<prefix>/explore`` (mean tiles explored per episode)."""
    out = {}
    for name, m in summary["milestones"].items():
        if m["reached"]:
            out[f"{prefix}/reach_rate/{name}"] = float(m["reach_rate"])
            out[f"{prefix}/median_steps/{name}"] = float(m["median_steps"])
    out.update({f"{prefix}/map_share/{name}": float(share) for name, share in summary["map_share"].items()})
    out[f"{prefix}/stuck_share"] = float(summary["stuck_share"])
    out[f"{prefix}/stuck_episode_ends"] = float(summary["stuck_episode_ends"])
    if "explore" in summary:
        out[f"{prefix}/explore"] = float(summary["explore"]["mean"])
    return out


def format_progress_table(summary: dict[str, Any], title: str = "progress") -> str:
    """A ``ProgressTally.summary`` (or ``evaluate``'s result) as a plain-text table."""
    lines = [f"{title}: {summary['episodes']} episodes ended, {summary['env_steps']} env steps, "
             f"stuck {summary['stuck_share']:.1%} of steps"]
    rows = [(n, m) for n, m in summary["milestones"].items() if m["reached"] or m["held_at_start"]]
    if rows:
        width = max(len(n) for n, _ in rows)
        lines.append(f"  {'milestone':<{width}}  reach rate  median steps  held at start")
        for name, m in rows:
            median = "-" if m["median_steps"] is None else f"{m['median_steps']:.0f}"
            lines.append(f"  {name:<{width}}  {m['reach_rate']:>10.1%}  {median:>12}  {m['held_at_start']:>13}")
    else:
        lines.append("  no milestone reached")
    maps = list(summary["map_share"].items())
    if maps:
        shown = ", ".join(f"{name} {share:.1%}" for name, share in maps[:8])
        lines.append(f"  time by map: {shown}" + (f", {len(maps) - 8} more" if len(maps) > 8 else ""))
    return "\n".join(lines)
