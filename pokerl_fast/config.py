"""Environment configuration: one dataclass tree, a docstring per field.

Every knob of the environment lives here; derived values are computed once in
``EnvConfig.resolved()``. The trainer nests this inside its own config, so the same fields
are CLI flags (``--env.frames-per-step 24``) and YAML keys.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from pokerl_fast import runtime

ACTIONS = ("down", "left", "right", "up", "a", "b", "start")
"""The default action set: the d-pad, A, B and START (SELECT is never needed in Red)."""

VALID_BUTTONS = frozenset(("down", "left", "right", "up", "a", "b", "start", "select", "noop"))


@dataclass
class RewardConfig:
    """Weight of each reward term; the reward is the change of the weighted total each step."""

    explore: float = 0.02
    """Per new tile visited on the global Kanto map this episode."""
    events: float = 0.5
    """Per event flag bit set (relative to the episode's start state)."""
    required_events: float = 2.0
    """Extra weight per event that gates progress (constants.REQUIRED_EVENTS)."""
    badges: float = 5.0
    """Per gym badge obtained."""
    levels: float = 0.25
    """Per level a party mon gained after it joined: the starter's, a catch's or a withdrawn mon's level on
    joining pays nothing (it goes into the baseline); a mon leaving the party keeps what it earned (the score
    stays put on that step). A level above levels_cap pays a quarter."""
    levels_cap: float = 15.0
    """A mon's levels above this pay a quarter of the levels weight each (Red asks ever more experience per level;
    past what the road ahead needs, grinding wild battles stops outbidding the quest). Brock's Onix is level 14.
    0: every level pays the full weight. Not a term: it shapes the levels term."""
    heal: float = 0.5
    """Per full party HP bar restored outside battle (fractions add up)."""
    battles_won: float = 1.0
    """Per trainer battle won: it ends with the enemy mon fainted (wEnemyMonHP 0) and party HP left; losing or
    running pays nothing. Trainers battle once each, so this cannot be farmed; wild wins pay only through the
    levels they bring (levels, tapered above levels_cap): a term per wild win measured as a grinding loop on the
    benchmark world (docs/learning.md: 85 levels and some 100 wild wins per episode, 0.55 reward a win against
    2 for exploring, and no run reached Viridian's parcel in 1M steps)."""
    key_items: float = 1.0
    """Per distinct key item or HM held in the bag this episode (constants.KEY_ITEMS: Oak's Parcel, S.S. Ticket, HM01, ...)."""
    dex: float = 0.1
    """Per Pokedex bit (seen + owned)."""
    blackout: float = -1.0
    """Per blackout: the whole party fainted where Red blacks out (HandlePlayerBlackOut); losing the rival's
    battle in Oak's lab (wCurOpponent OPP_RIVAL1 on map OAKS_LAB) is not one, the game goes on. Negative: a penalty."""

    def weights(self, term_names: tuple[str, ...]) -> list[float]:
        """The weights in the native reward table's order; every native term must have a field."""
        known = {f.name for f in dataclasses.fields(self)}
        missing = [t for t in term_names if t not in known]
        if missing:
            raise ValueError(f"reward terms {missing} have no weight in RewardConfig; add fields for them")
        return [float(getattr(self, t)) for t in term_names]


@dataclass
class EnvConfig:
    """How each emulator is run, observed and rewarded."""

    rom: str | None = None
    """ROM path. None: $POKERL_ROM if set, else the bundled test world. A real ROM must be Pokemon Red."""
    start_state: str | None = None
    """Save-state file to start episodes from. None: built at run time (boot for the test world, the scripted intro for Red)."""
    seed: int = 0
    """Base seed; env i uses seed + i (it sets the random no-op frames after each reset)."""
    episode_length: int = 2048
    """Steps per episode; then the env is truncated and reset to the start state."""
    frames_per_step: int = 24
    """Frames emulated per step (the maximum when adaptive_steps is on)."""
    button_hold_frames: int = 8
    """Frames each press is held before release."""
    adaptive_steps: bool = False
    """End a step early, once min_frames_per_step have passed, when the game is ready for input (RAM check each frame)."""
    min_frames_per_step: int = 12
    """Lower bound on a step's frames when adaptive_steps is on."""
    screen_source: str = "native"
    """"native": draw the 72x80 observation from VRAM/OAM in C++ (PyBoy's renderer stays off);
    "pyboy": render the last frame of each step with PyBoy and downsample it. Both give the same picture."""
    reset_noop_max: int = 30
    """After a reset, each env idles a random 0..N frames (from its own seed) so envs do not move in lockstep."""
    actions: tuple[str, ...] = ACTIONS
    """Buttons the agent chooses from, in action-index order."""
    auto_dialog: bool = False
    """Scripted helper: tap A on alternate frames while wJoyIgnore is set (scripted scenes, text), after the agent's own press."""
    infinite_money: bool = False
    """Scripted helper: keep wPlayerMoney at 999999 after every step (buying is never blocked)."""
    auto_flash: bool = True
    """Scripted helper: keep wMapPalOffset at 0 so dark caves are lit without HM05 (Rock Tunnel is otherwise a maze in the dark)."""
    auto_hm: bool = True
    """Scripted helper: when the agent pushes into a Cut tree (water) and a party mon knows Cut (Surf) and the
    badge is owned, open the start menu and use the move through the game's own menus (a few hundred frames,
    counted in the step); keep Strength active (wStatusFlags1) while a mon knows it and the Rainbow badge is owned."""
    swarm_interval: int = 0
    """Swarming: every N steps move swarm_fraction of the envs to states sampled from the archive's frontier (0: off)."""
    swarm_fraction: float = 0.25
    """Share of envs moved at each swarming round."""
    swarm_archive_size: int = 64
    """Most states the archive keeps (one per set of required events and badges reached, or with swarm_cell_size
    one per cell of each; kept compressed, about 2 kB each on the test worlds). When full, states of dominated
    milestone sets go first, then the most visited cells."""
    swarm_cell_size: int = 0
    """Swarming by cells (Go-Explore): with N > 0 the archive keeps a state for every (set of milestones, map,
    N x N block of steps) an env enters, and swarming and reset_to_archive draw the frontier's cells with weight
    1 / sqrt(1 + steps envs spent there), so envs restart at the edge of what they know: crossing a long route
    or walking back over explored ground with a new milestone moves the frontier before the next milestone does.
    0: one state per set of milestones (the frontier moves only with milestones)."""
    reset_to_archive: float = 0.0
    """Probability that an episode restarts from a frontier state of the archive instead of the start state."""
    explore_reset_interval: int = 0
    """Progress mechanic: every N steps of an episode clear the env's exploration memory (visited tiles) without
    resetting the emulator, so tiles pay again; with a long episode_length, long episodes whose exploration memory
    resets on a schedule. The explore score is kept, so the reward never jumps negative. 0: off."""
    explore_reset_on_progress: bool = False
    """Progress mechanic: clear an env's exploration memory (as explore_reset_interval does) when it reaches a new
    milestone, so ground it explored before pays again: the way back to Oak with his parcel is new ground."""
    explore_boost: float = 1.0
    """Progress mechanic: a new tile on a map whose completion events (constants.MAP_COMPLETION_EVENTS) are not
    all set pays reward.explore * explore_boost; maps without an entry count as finished. 1: off."""
    revisit_half_life: float = 0.0
    """Progress mechanic: decaying revisit value. A known tile's explore value decays with this half-life, in steps
    since the player last stood on it, and standing on it again pays what it lost: reward.explore x
    (1 - 2^(-steps / half-life)), x explore_boost on unfinished maps. A tile left long ago pays almost as a new one,
    pacing between two tiles almost nothing. Tiles with no place on the global map never decay. 0: off (a known
    tile pays nothing until the exploration memory resets)."""
    observe_progress: bool = False
    """Progress mechanic: add the observation "progress" (float32: party species/level/HP per slot, key items
    held, required events set) and the policy's MLP branch for it."""
    stuck_steps: int = 0
    """Stuck detector: an env is stuck once it has found no new tile (info "explore") and set no new event flag
    (info "events") for this many steps of its episode, not counting steps in a text box, menu or battle that
    changed what it shows (info "scene", "scene_changed"); info["stuck"] says which are (0: off)."""
    stuck_ends_episode: bool = False
    """End (truncate) a stuck env's episode and reset it, as episode_length does, but only in free play (never in
    a text box, menu or battle); needs stuck_steps > 0."""
    paint_interval: int = 0
    """Map from observation: every N vector steps one env (in turn) paints its screen onto a canvas of Kanto at
    its global position, and every env's position joins its trail (VecEnv.kanto_picture; the trainer writes it
    as explored_map.png). 0: off."""
    clip_steps: int = 0
    """Milestone clips: keep each env's last N observation screens (one per step); the first time any env
    reaches a milestone, its last N screens are kept as a clip (VecEnv.take_clips; the trainer writes them to
    run_dir/clips/). 25 steps of 24 frames are 10 s of game time. 0: off."""
    num_threads: int = 0
    """OpenMP threads that tick the emulators (no GIL held). 0: one per CPU this process may use (affinity mask,
    cgroup quota), at most num_envs."""
    reward: RewardConfig = field(default_factory=RewardConfig)
    """Reward term weights."""

    def validate(self) -> None:
        """Raise ValueError with a one-line fix for any bad value."""
        if self.frames_per_step < 1:
            raise ValueError(f"frames_per_step must be >= 1 (got {self.frames_per_step})")
        if not 0 <= self.button_hold_frames <= self.frames_per_step:
            raise ValueError(
                f"button_hold_frames must be in 0..frames_per_step={self.frames_per_step} (got {self.button_hold_frames})")
        if self.adaptive_steps and not 1 <= self.min_frames_per_step <= self.frames_per_step:
            raise ValueError(
                f"min_frames_per_step must be in 1..frames_per_step={self.frames_per_step} (got {self.min_frames_per_step})")
        if self.episode_length < 1:
            raise ValueError(f"episode_length must be >= 1 (got {self.episode_length})")
        if self.reset_noop_max < 0:
            raise ValueError(f"reset_noop_max must be >= 0 (got {self.reset_noop_max})")
        bad = [a for a in self.actions if a not in VALID_BUTTONS]
        if bad or not self.actions:
            raise ValueError(f"actions {bad or '()'} are not buttons; choose from {sorted(VALID_BUTTONS)}")
        if self.screen_source not in ("native", "pyboy"):
            raise ValueError(f"screen_source must be 'native' or 'pyboy' (got {self.screen_source!r})")
        if self.swarm_interval < 0 or not 0.0 <= self.swarm_fraction <= 1.0:
            raise ValueError("swarm_interval must be >= 0 and swarm_fraction in [0, 1] "
                             f"(got {self.swarm_interval}, {self.swarm_fraction})")
        if self.swarm_archive_size < 1:
            raise ValueError(f"swarm_archive_size must be >= 1 (got {self.swarm_archive_size})")
        if not 0 <= self.swarm_cell_size <= 255:
            raise ValueError(f"swarm_cell_size must be in 0..255 steps, 0 for off (got {self.swarm_cell_size})")
        if not 0.0 <= self.reset_to_archive <= 1.0:
            raise ValueError(f"reset_to_archive must be in [0, 1] (got {self.reset_to_archive})")
        if self.explore_reset_interval < 0:
            raise ValueError(f"explore_reset_interval must be >= 0, 0 for off (got {self.explore_reset_interval})")
        if not self.explore_boost >= 0.0:
            raise ValueError(f"explore_boost must be >= 0, 1 for off (got {self.explore_boost})")
        if not self.revisit_half_life >= 0.0:
            raise ValueError(f"revisit_half_life must be >= 0, 0 for off (got {self.revisit_half_life})")
        if self.stuck_steps < 0:
            raise ValueError(f"stuck_steps must be >= 0 (got {self.stuck_steps}); 0 turns the stuck detector off")
        if self.stuck_ends_episode and not self.stuck_steps:
            raise ValueError("stuck_ends_episode needs the stuck detector on: set stuck_steps > 0")
        if self.paint_interval < 0:
            raise ValueError(f"paint_interval must be >= 0 (got {self.paint_interval}); 0 turns the painted map off")
        if self.clip_steps < 0:
            raise ValueError(f"clip_steps must be >= 0 (got {self.clip_steps}); 0 turns milestone clips off")
        if not self.reward.levels_cap >= 0.0:
            raise ValueError(f"reward.levels_cap must be >= 0, 0 for no taper (got {self.reward.levels_cap})")
        if self.num_threads < 0:
            raise ValueError(f"num_threads must be >= 0 (got {self.num_threads})")

    def mechanisms(self) -> str:
        """One line saying which progress mechanisms are on, for the start of a run."""
        on = [
            f"episodes of {self.episode_length} steps"
            + (f", exploration memory reset every {self.explore_reset_interval}" if self.explore_reset_interval else "")
            + (" and at each new milestone" if self.explore_reset_on_progress else ""),
            (f"swarming every {self.swarm_interval} steps ({self.swarm_fraction:.0%} of envs)" if self.swarm_interval
             else "swarming off"),
            (f"archive cells of {self.swarm_cell_size}x{self.swarm_cell_size} steps" if self.swarm_cell_size
             else "archive by milestones only"),
            (f"reset to archive {self.reset_to_archive:.0%}" if self.reset_to_archive else "reset to archive off"),
            (f"explore boost x{self.explore_boost:g} on unfinished maps" if self.explore_boost != 1.0
             else "explore boost off"),
            (f"revisit value half-life {self.revisit_half_life:g} steps" if self.revisit_half_life
             else "revisit decay off"),
            f"stuck after {self.stuck_steps} steps" + (" ends the episode outside text and battles"
                                                        if self.stuck_ends_episode else " (marked, not ended)")
            if self.stuck_steps else "stuck detector off",
            "progress observation on" if self.observe_progress else "progress observation off",
            (f"adaptive steps ({self.min_frames_per_step}-{self.frames_per_step} frames)" if self.adaptive_steps
             else f"{self.frames_per_step} frames per step"),
        ]
        return "mechanisms: " + " | ".join(on)

    def threads_for(self, num_envs: int) -> int:
        """Threads actually used for num_envs emulators."""
        n = self.num_threads or runtime.available_cpus()
        return max(1, min(n, num_envs))
