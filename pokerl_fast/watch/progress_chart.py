"""``progress.png``: the learning as one picture, the figure a user would otherwise assemble from TensorBoard.

One row per milestone the run reached, in the order it first reached them (then any only the evaluations reached):
its name and the env
step at which an env first reached it, then two small plots over the run's env steps: the reach rate during
training (the run-wide share of ended episodes that earned it: TensorBoard ``progress/reach_rate/<NAME>``, a tick
where it was first reached) and the reach rate of the policy alone at each evaluation (``eval/reach_rate/<NAME>``).
The series are read back from the run's own TensorBoard files, so a resumed run draws its whole history.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

__all__ = ["draw_progress", "read_scalars", "progress_picture"]

WIDTH = 1000
ROW_H = 40
HEADER_H = 44
FOOTER_H = 26
LABEL_W = 330
PLOT_W = (WIDTH - LABEL_W - 30) // 2
PLOT_H = 30
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
GRID = (225, 225, 225)
TRAIN = (40, 150, 60)
EVAL = (40, 90, 200)
FIRST = (220, 60, 40)


def read_scalars(run_dir: str | os.PathLike, prefixes: tuple[str, ...]) -> dict[str, list[tuple[int, float]]]:
    """Every TensorBoard scalar under ``run_dir`` whose tag starts with one of ``prefixes``: tag -> [(step, value)],
    in step order (the last value of a step kept). Empty when the run wrote no TensorBoard files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    if not any(p.name.startswith("events.out.tfevents") for p in Path(run_dir).iterdir()):
        return {}
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    tb_logger = logging.getLogger("tensorboard")
    level = tb_logger.level
    tb_logger.setLevel(logging.ERROR)  # a resumed run's purged steps are expected, not worth a warning line
    try:
        acc.Reload()
    finally:
        tb_logger.setLevel(level)
    out = {}
    for tag in acc.Tags()["scalars"]:
        if tag.startswith(prefixes):
            points = {e.step: e.value for e in acc.Scalars(tag)}
            out[tag] = sorted(points.items())
    return out


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def _plot(draw, x0: int, y0: int, points: list[tuple[int, float]], total: int, color, first: int | None = None):
    """A PLOT_W x PLOT_H box at (x0, y0): rate 0..1 against env steps 0..total, as a step line with dots."""
    draw.rectangle([x0, y0, x0 + PLOT_W, y0 + PLOT_H], outline=GRID)
    draw.line([x0, y0 + PLOT_H // 2, x0 + PLOT_W, y0 + PLOT_H // 2], fill=GRID)
    xy = lambda s, v: (x0 + round(PLOT_W * min(s, total) / max(total, 1)), y0 + PLOT_H - round(PLOT_H * v))  # noqa
    if first is not None:
        x = xy(first, 0)[0]
        draw.line([x, y0, x, y0 + PLOT_H], fill=FIRST, width=2)
    if points:
        line = [xy(0, 0)]
        for step, value in points:
            line += [(xy(step, 0)[0], line[-1][1]), xy(step, value)]
        line.append((xy(total, 0)[0], line[-1][1]))
        draw.line(line, fill=color, width=2)
        if len(points) <= 40:
            for step, value in points:
                x, y = xy(step, value)
                draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=color)


def draw_progress(names: tuple[str, ...], firsts: dict[str, int], train: dict[str, list[tuple[int, float]]],
                  evals: dict[str, list[tuple[int, float]]], total_steps: int, title: str) -> np.ndarray:
    """The picture as an RGB array. ``firsts``: milestone -> env step first reached; ``train`` / ``evals``:
    milestone -> [(env step, reach rate)]; rows for the milestones in any of them, in ``names`` order."""
    from PIL import Image, ImageDraw

    shown = [n for n in names if n in firsts or n in train or n in evals]
    shown.sort(key=lambda n: firsts.get(n, float("inf")))  # in the order the run reached them (stable: then names)
    height = HEADER_H + ROW_H * max(len(shown), 1) + FOOTER_H
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    big, small = _font(18), _font(13)
    draw.text((10, 8), title, fill=INK, font=big)
    px = (LABEL_W, LABEL_W + PLOT_W + 20)
    draw.text((px[0], HEADER_H - 16), "reach rate in training (0-1)", fill=TRAIN, font=small)
    draw.text((px[1], HEADER_H - 16), "reach rate of the policy alone (evaluations)", fill=EVAL, font=small)
    if not shown:
        draw.text((10, HEADER_H + 10), "no milestone reached yet", fill=INK, font=small)
    for row, name in enumerate(shown):
        y = HEADER_H + row * ROW_H + 4
        draw.text((10, y), name.removeprefix("EVENT_"), fill=INK, font=small)
        first = firsts.get(name)
        when = f"first at env step {first:,}" if first is not None else "not reached in training"
        draw.text((10, y + 16), when, fill=FIRST if first is not None else INK, font=small)
        _plot(draw, px[0], y, train.get(name, []), total_steps, TRAIN, first)
        _plot(draw, px[1], y, evals.get(name, []), total_steps, EVAL)
    draw.text((10, height - FOOTER_H + 6), f"x: env steps 0 to {total_steps:,}; red tick: first reached",
              fill=INK, font=small)
    return np.asarray(image)


def progress_picture(run_dir: str | os.PathLike, names: tuple[str, ...], firsts: dict[str, int], total_steps: int,
                     last_eval: dict | None = None) -> np.ndarray:
    """``draw_progress`` for a run: the series from its TensorBoard files; without them (``--no-tensorboard``),
    the firsts and the last evaluation's rates as single points."""
    scalars = read_scalars(run_dir, ("progress/reach_rate/", "eval/reach_rate/", "milestones/first_step/"))
    series = lambda prefix: {tag.removeprefix(prefix): pts for tag, pts in scalars.items()  # noqa: E731
                             if tag.startswith(prefix)}
    train, evals = series("progress/reach_rate/"), series("eval/reach_rate/")
    logged_firsts = {name: int(pts[0][1]) for name, pts in series("milestones/first_step/").items()}
    firsts = {**firsts, **logged_firsts}
    if not evals and last_eval is not None:
        step = int(last_eval.get("global_step", total_steps))
        evals = {name: [(step, m["reach_rate"])] for name, m in last_eval["milestones"].items() if m["reached"]}
    title = f"progress: {len(firsts)} milestones reached in {total_steps:,} env steps"
    return draw_progress(names, firsts, train, evals, max(total_steps, 1), title)

