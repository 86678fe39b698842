"""Type stub for the native kernels binding (pokerl_fast/_native/_kernels.pyx over csrc/core.h)."""

from typing import Any

import numpy as np
import numpy.typing as npt

NUM_TERMS: int
NUM_INFO: int
NUM_RAM_FEATURES: int
TERM_NAMES: tuple[str, ...]
INFO_NAMES: tuple[str, ...]
RAM_FEATURE_NAMES: tuple[str, ...]
KANTO_SHAPE: tuple[int, int]
WRAM_BYTES: int
SCREEN_SHAPE: tuple[int, int, int]
OBS_SCREEN_SHAPE: tuple[int, int]
OBS_VISITED_SHAPE: tuple[int, int]
OBS_PIXELS_SHAPE: tuple[int, int]
VISITED_GRID: tuple[int, int, int, int]
EXPLORE_WORDS_PER_ENV: int
STAGES: tuple[str, ...]
BUFFER_SPECS: dict[str, tuple[tuple[int, ...], type]]

def allocate_buffers(num_envs: int) -> dict[str, np.ndarray]: ...
def decode(wram: bytes | bytearray | memoryview | npt.ArrayLike) -> dict[str, Any]: ...
def ready_for_input(wram: bytes | bytearray | memoryview | npt.ArrayLike) -> bool: ...
def encode_screen(screen: npt.ArrayLike) -> npt.NDArray[np.uint8]: ...

class Kernels:
    num_envs: int
    buffers: dict[str, np.ndarray]
    weights: npt.NDArray[np.float32]
    def __init__(
        self,
        num_envs: int,
        wram_ptrs: npt.NDArray[np.uint64],
        screen_ptrs: npt.NDArray[np.uint64],
        weights: npt.NDArray[np.float32],
        buffers: dict[str, np.ndarray],
        global_counts: npt.NDArray[np.uint32] | None = None,
    ) -> None: ...
    def set_pointers(self, env: int, wram_ptr: int, screen_ptr: int) -> None: ...
    def update(self) -> None: ...
    def reset(self, env_ids: npt.ArrayLike) -> None: ...
    def run_stage(self, stage: str) -> None: ...
    def global_counts(self) -> npt.NDArray[np.uint32]: ...
    def explore_counts(self) -> npt.NDArray[np.int64]: ...
    def visited_bits(self, env: int) -> npt.NDArray[np.bool_]: ...
    def get_state(self) -> dict[str, np.ndarray]: ...
    def set_state(self, state: dict[str, np.ndarray]) -> None: ...
