"""``python -m pokerl_fast.train``: train a recurrent PPO agent on the bundled test world, or on your Pokemon Red
with ``--rom PATH``. Ctrl-C saves a checkpoint; ``--resume RUN_DIR`` continues it.

This module is the command's name only: the loop is pokerl_fast/run/train.py, the flags pokerl_fast/run/cli.py,
every option (a docstring each) pokerl_fast/config.py.
"""

from pokerl_fast.run.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
