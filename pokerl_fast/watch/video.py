"""Writing frames as a video: MP4 (H.264) through the ``ffmpeg`` program the imageio-ffmpeg wheel ships (a
dependency: installed with the package, nothing downloaded at run time), or one on PATH; an animated GIF with
Pillow only when asked (``gif=True``) or when neither exists. Frames are RGB uint8 arrays of one size, given one
at a time; an MP4 streams to ffmpeg's stdin, a GIF keeps palette frames (one byte a pixel) until ``close``.

``upscale`` (nearest neighbour: the Game Boy's pixels stay square and sharp) and ``with_caption`` (a line of text
under a frame) make frames a person can read on a laptop without zooming."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import numpy as np

__all__ = ["CAPTION_H", "VideoWriter", "encoder_available", "upscale", "with_caption"]

CAPTION_H = 24
"""Height in pixels of the caption line under a frame."""


def bundled_ffmpeg() -> str | None:
    """The ffmpeg binary of the imageio-ffmpeg wheel, or None when it is not installed."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:  # the wheel has no binary for this platform
        return None


def encoder_available() -> str | None:
    """The ffmpeg program's path (the bundled one, else one on PATH), or None (videos are then GIFs)."""
    return bundled_ffmpeg() or shutil.which("ffmpeg")


def upscale(frame: np.ndarray, factor: int) -> np.ndarray:
    """(H, W, 3) -> (H * factor, W * factor, 3), each pixel a factor x factor square (nearest neighbour)."""
    return frame.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else frame


def with_caption(frame: np.ndarray, text: str) -> np.ndarray:
    """``frame`` with a CAPTION_H-pixel black line of white ``text`` under it (cut at the frame's width)."""
    from PIL import Image, ImageDraw, ImageFont

    strip = Image.new("RGB", (frame.shape[1], CAPTION_H))
    try:
        font = ImageFont.load_default(size=16)
    except TypeError:  # Pillow without FreeType sizes: its bitmap font
        font = ImageFont.load_default()
    ImageDraw.Draw(strip).text((6, 3), text, fill=(255, 255, 255), font=font)
    return np.concatenate([frame, np.asarray(strip)], axis=0)


class VideoWriter:
    """``VideoWriter(stem, fps)``; ``add(frame)`` per frame; ``close()`` returns the file written (stem + .mp4 or .gif).

    ``gif=True`` forces a GIF. The file is written under a temporary name and renamed when complete."""

    def __init__(self, stem: str | os.PathLike, fps: float = 15.0, gif: bool = False):
        self.fps = float(fps)
        ffmpeg = None if gif else encoder_available()
        self.path = pathlib.Path(stem).with_suffix(".mp4" if ffmpeg else ".gif")
        self._tmp = self.path.with_name(self.path.name + ".part")
        self._ffmpeg = ffmpeg
        self._proc: subprocess.Popen | None = None
        self._frames: list = []
        self._size: tuple[int, int] | None = None
        self.count = 0

    def add(self, frame: np.ndarray) -> None:
        frame = np.ascontiguousarray(frame, np.uint8)
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"a video frame is (height, width, 3) RGB, got shape {frame.shape}")
        if self._size is None:
            self._size = frame.shape[:2]
            if self._ffmpeg:
                self._start(*self._size)
        elif frame.shape[:2] != self._size:
            raise ValueError(f"frame size {frame.shape[:2]} differs from the first frame's {self._size}")
        if self._proc is not None:
            self._proc.stdin.write(frame.tobytes())
        else:
            from PIL import Image

            self._frames.append(Image.fromarray(frame).quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=0))
        self.count += 1

    def _start(self, height: int, width: int) -> None:
        # yuv420p needs even sides: pad by one pixel where needed.
        cmd = [self._ffmpeg, "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", f"{width}x{height}", "-r", f"{self.fps:g}", "-i", "-",
               "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
               "-f", "mp4", str(self._tmp)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def close(self) -> pathlib.Path:
        """Finish the file; returns its path. With no frame added nothing is written and ValueError is raised."""
        if self.count == 0:
            raise ValueError("no frames were added: nothing to write")
        if self._proc is not None:
            self._proc.stdin.close()
            err = self._proc.stderr.read().decode(errors="replace").strip()
            if self._proc.wait() != 0:
                self._tmp.unlink(missing_ok=True)
                raise OSError(f"ffmpeg failed: {err.splitlines()[-1] if err else 'no message'}")
        else:
            first, *rest = self._frames
            first.save(self._tmp, format="GIF", save_all=True, append_images=rest, loop=0,
                       duration=max(20, round(100 / self.fps) * 10), optimize=False)  # GIF keeps centiseconds
            self._frames.clear()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Stop without a file (an interrupted evaluation leaves nothing half-written)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
        self._frames.clear()
        self._tmp.unlink(missing_ok=True)
