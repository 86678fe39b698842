"""The environment layer: emulators stepped as one batch by the native core, as Gymnasium envs.

vector (VecEnv, the single-env PokerlEnv and their factories), progress (milestones: which an env holds, when
each episode and the run first reached them), swarm (the frontier-state archive), reference (plain-Python twins
of every native decision, for the tests).
"""

from pokerl_fast.env.progress import BADGE_NAMES, MILESTONE_NAMES
from pokerl_fast.env.vector import (
    INFO_KEYS,
    TERM_NAMES,
    PokerlEnv,
    VecEnv,
    action_masks,
    load_start_state,
    make_env,
    make_vec_env,
    observation_space,
)

__all__ = ["BADGE_NAMES", "INFO_KEYS", "MILESTONE_NAMES", "TERM_NAMES", "PokerlEnv", "VecEnv", "action_masks",
           "load_start_state", "make_env", "make_vec_env",
           "observation_space"]
