"""Seeing what the agent does: map pictures drawn from what the envs' screens showed (kanto_map.py), videos
(video.py), the live map page the trainer serves on 127.0.0.1 (live.py), and ``python -m pokerl_fast.eval``, which
runs a trained policy alone and records it (cli.py)."""
