"""``python -m pokerl_fast.eval``: a real short training run on the test world, then its checkpoint evaluated as a
user would, with video (MP4 through ffmpeg, GIF without), the map and eval.json; bad input in one line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import support
from pokerl_fast.watch import video
from pokerl_fast.watch.video import CAPTION_H, VideoWriter

REPO = Path(__file__).resolve().parents[1]
TINY = ["--hidden-size", "32", "--cnn-channels", "4", "8", "8", "--cnn-features", "32", "--map-embedding", "4",
        "--ram-hidden", "16"]


def cli(*args: str, cwd: Path, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pokerl_fast.eval", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("evalrun")
    done = subprocess.run([sys.executable, "-m", "pokerl_fast.train", "--run-dir", str(root / "run"), "--num-envs",
                           "4", "--total-steps", "1024", "--no-progress", "--eval-steps", "40", *TINY],
                          cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return root / "run"


def test_eval_writes_video_map_and_json_of_the_newest_checkpoint(run_dir, tmp_path):
    args = ["--episodes", "3", "--gif", "--seed", "7"]
    done = cli(str(run_dir), *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    out = run_dir / "eval" / "ckpt-000000001024"
    report = json.loads((out / "eval.json").read_text())
    assert report["files"] == {"map": "eval_map.png", "video": "eval.gif"} and report["global_step"] == 1024
    assert report["steps"] == 40 and report["episodes"] == 3 and report["seed"] == 7  # the run's --eval-steps
    assert len(report["per_episode"]) == 3
    for ep in report["per_episode"]:
        assert ep["maps"][0] == "REDS_HOUSE_2F" or "REDS_HOUSE_2F" in ep["maps"]
        assert ep["tiles"] >= 1 and isinstance(ep["return"], float)
    with Image.open(out / "eval.gif") as gif:  # the reset and every step: env 0 at 3x, the others, the map, a caption
        assert gif.size == (3 * 160 + 160 + 3 * 160, 3 * 144 + CAPTION_H)
        durations = []  # a GIF merges a repeated frame into the one before (its duration grows)
        for k in range(gif.n_frames):
            gif.seek(k)
            durations.append(gif.info["duration"])
        assert sum(durations) == 41 * 70  # 15 fps: 70 ms a frame (GIF times are in centiseconds)
        gif.seek(gif.n_frames // 2)
        frame = np.asarray(gif.convert("RGB"))
    assert len(np.unique(frame[:432, :480].reshape(-1, 3), axis=0)) >= 2  # a real picture of the game, not a blank
    assert (frame[:432, 480:640] != 0).any()  # the other two episodes' screens beside it
    assert (frame[:288, 640:] == 255).all(axis=-1).any()  # env 0's white square on the map window
    assert (frame[432:] > 128).any()  # the caption
    with Image.open(out / "eval_map.png") as png:  # cropped to where the episodes went, 4 pixels a tile
        assert png.size[0] < 436 * 4 and png.size[1] < 444 * 4
    # The same seed gives the same episodes; a checkpoint dir can be named directly.
    again = cli(str(run_dir / "checkpoints" / out.name), *args, "--no-video", "--out", str(tmp_path / "again"), cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    second = json.loads((tmp_path / "again" / "eval.json").read_text())
    assert second["per_episode"] == report["per_episode"] and second["files"] == {"map": "eval_map.png"}
    assert "episode 0: return" in done.stdout and "wrote" in done.stdout


def test_eval_writes_an_mp4_through_the_bundled_ffmpeg_with_no_ffmpeg_on_path(run_dir, tmp_path):
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}  # python only: no ffmpeg on PATH
    done = cli(str(run_dir), "--episodes", "2", "--steps", "30", "--greedy", "--out", str(tmp_path / "o"),
               cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    codec, frames = support.decode_video(tmp_path / "o" / "eval.mp4")
    assert codec == "h264" and frames.shape == (31, 3 * 144 + CAPTION_H, 3 * 160 + 160 + 3 * 160, 3)
    assert json.loads((tmp_path / "o" / "eval.json").read_text())["greedy"] is True


def test_video_writer_falls_back_to_gif_without_ffmpeg(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg here
    monkeypatch.setattr(video, "bundled_ffmpeg", lambda: None)  # nor the wheel's
    w = VideoWriter(tmp_path / "clip", fps=10)
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 4, (6, 8, 3), dtype=np.uint8) * 80 for _ in range(5)]  # all different
    for f in frames:
        w.add(f)
    path = w.close()
    assert path.name == "clip.gif" and not list(tmp_path.glob("*.part"))
    with Image.open(path) as gif:
        assert gif.n_frames == 5
        gif.seek(3)
        assert np.array_equal(np.asarray(gif.convert("RGB")), frames[3])
    with pytest.raises(ValueError, match="differs from the first"):
        w2 = VideoWriter(tmp_path / "b", gif=True)
        w2.add(frames[0])
        w2.add(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="no frames"):
        VideoWriter(tmp_path / "c", gif=True).close()


def test_ctrl_c_leaves_no_half_written_video(run_dir, tmp_path):
    out = tmp_path / "stopped"
    # Ctrl-C's default action in the child, even when pytest itself runs as a background job (a shell without job
    # control starts those with SIGINT ignored, and Python keeps an ignored SIGINT ignored).
    proc = subprocess.Popen([sys.executable, "-m", "pokerl_fast.eval", str(run_dir), "--steps", "100000",
                             "--episodes", "1", "--out", str(out)], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not out.is_dir() and time.monotonic() < deadline:  # the evaluation has begun
            time.sleep(0.2)
        assert out.is_dir(), "the evaluation never started"
        time.sleep(3)  # into the episode: frames are being written
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()  # never left running when the test fails
        proc.wait()
    assert proc.returncode == 130, err[-2000:]
    assert err.strip().splitlines()[-1].startswith("interrupted")
    assert not out.exists()  # no video, part file or dir of its own left


@pytest.mark.parametrize("args, message", [
    (["nowhere"], "no such run dir or checkpoint"),
    (["{empty}"], "no complete checkpoint"),
    (["{run}", "--episodes", "0"], "--episodes must be >= 1"),
    (["{run}", "--rom", "{bad_rom}"], "ROM"),
    (["{run}", "--steps", "x"], "--steps"),
])
def test_bad_input_is_one_line_and_exit_2(run_dir, tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    bad_rom = tmp_path / "bad.gb"
    bad_rom.write_bytes(os.urandom(32768))
    args = [a.format(run=run_dir, empty=tmp_path / "empty", bad_rom=bad_rom) for a in args]
    before = sorted(p.name for p in run_dir.iterdir())
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], done.stderr
    assert sorted(p.name for p in run_dir.iterdir()) == before  # no eval dir left behind
