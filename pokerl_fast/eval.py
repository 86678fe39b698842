"""``python -m pokerl_fast.eval RUN_DIR``: watch a trained policy play alone from the start state (video, map
picture, per-episode figures). This module is the command's name only: the code is pokerl_fast/watch/cli.py."""

from pokerl_fast.watch.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
