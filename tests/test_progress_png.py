"""progress.png: one row per milestone reached, its first step, the training reach rate and the evaluations', read
back from the run's TensorBoard files (written here by torch's SummaryWriter, as the trainer writes them)."""

from __future__ import annotations

import numpy as np
from torch.utils.tensorboard import SummaryWriter

from pokerl_fast.env.progress import MILESTONE_NAMES
from pokerl_fast.watch import progress_chart as pc

A, B = MILESTONE_NAMES[0], MILESTONE_NAMES[3]


def write_run(run_dir) -> None:
    w = SummaryWriter(str(run_dir))
    for step, rate in ((1000, 0.0), (2000, 0.25), (3000, 0.5), (4000, 1.0)):
        w.add_scalar(f"progress/reach_rate/{A}", rate, step)
    w.add_scalar(f"milestones/first_step/{A}", 1500, 2000)
    for step, rate in ((2000, 0.125), (4000, 0.75)):
        w.add_scalar(f"eval/reach_rate/{A}", rate, step)
    w.add_scalar(f"eval/reach_rate/{B}", 0.5, 4000)  # reached alone by the policy, never in training
    w.add_scalar("losses/value_loss", 1.0, 4000)  # not drawn
    w.close()


def colour_columns(picture: np.ndarray, row: int, x0: int, colour) -> np.ndarray:
    y = pc.HEADER_H + row * pc.ROW_H + 4
    box = picture[y:y + pc.PLOT_H + 1, x0:x0 + pc.PLOT_W + 1]
    return np.flatnonzero((np.abs(box.astype(int) - colour).sum(-1) < 30).any(0))


def test_the_picture_has_a_row_per_milestone_with_its_first_step_and_both_rates(tmp_path):
    write_run(tmp_path)
    picture = pc.progress_picture(tmp_path, MILESTONE_NAMES, {}, total_steps=4000)
    assert picture.shape == (pc.HEADER_H + 2 * pc.ROW_H + pc.FOOTER_H, pc.WIDTH, 3)
    train_x, eval_x = pc.LABEL_W, pc.LABEL_W + pc.PLOT_W + 20
    first = colour_columns(picture, 0, train_x, pc.FIRST)  # the red tick where A was first reached: 1500 of 4000
    assert len(first) and abs(first.mean() - pc.PLOT_W * 1500 / 4000) <= 2
    assert len(colour_columns(picture, 0, train_x, pc.TRAIN)) > pc.PLOT_W // 2  # the training rate drawn across
    assert len(colour_columns(picture, 0, eval_x, pc.EVAL)) > pc.PLOT_W // 2
    assert len(colour_columns(picture, 1, train_x, pc.TRAIN)) == 0  # B: no training series, no tick
    assert len(colour_columns(picture, 1, eval_x, pc.EVAL)) > 0


def test_without_tensorboard_files_the_firsts_and_the_last_evaluation_are_drawn(tmp_path):
    last_eval = {"global_step": 3000, "milestones": {A: {"reached": 2, "reach_rate": 0.5}, B: {"reached": 0,
                                                                                               "reach_rate": 0.0}}}
    picture = pc.progress_picture(tmp_path, MILESTONE_NAMES, {A: 2000}, total_steps=4000, last_eval=last_eval)
    assert picture.shape[0] == pc.HEADER_H + pc.ROW_H + pc.FOOTER_H
    assert len(colour_columns(picture, 0, pc.LABEL_W + pc.PLOT_W + 20, pc.EVAL)) > 0
    none = pc.progress_picture(tmp_path, MILESTONE_NAMES, {}, total_steps=10)
    assert none.shape[0] == pc.HEADER_H + pc.ROW_H + pc.FOOTER_H  # "no milestone reached yet"
