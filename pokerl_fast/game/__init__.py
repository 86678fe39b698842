"""The game layer: what Pokemon Red is and how an emulator of it is made.

constants (generated from ../shared/data), the ROM check (rom), start states (red), the global Kanto
map (kanto_map), PyBoy's settings (emulator) and the project's own test-world ROM (testworld).
Nothing here knows about environments or learning.
"""
