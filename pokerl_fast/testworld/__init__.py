"""The project's own Game Boy test world: a tiny Pokemon-Red-like ROM built in Python (see world.py)."""
