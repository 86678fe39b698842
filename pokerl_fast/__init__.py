"""pokerl_fast: fast, tested reinforcement learning for Pokemon Red on PyBoy."""

__version__ = "0.1.0"
