"""The trainer: the loop (train.py), its input checks (checks.py), the learner and one update (learner.py), learning
beside collecting (overlap.py), checkpoints and resume (state.py), what a run shows (outputs.py, logger.py) and
its command line (cli.py)."""

from pokerl_fast import runtime

# Before torch loads libgomp, which reads its spin count once (runtime's docstring has the measurements).
runtime.tune_openmp()
