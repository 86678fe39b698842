"""The learning layer: the CNN + LSTM policy, PPO, and checkpoints on disk. Knows tensors, not emulators."""
