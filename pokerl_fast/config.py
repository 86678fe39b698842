"""Every knob, as one tree of dataclasses with a docstring per field: the environment (``EnvConfig`` and its
reward table), PPO (``PPOConfig``), the network (``PolicyConfig``) and a training run (``TrainConfig``, which nests
the other three; ``training_env`` holds the trainer's env defaults). The same fields are the trainer's flags
(``--env.frames-per-step 24``, ``--gamma``) and YAML keys. Plain Python: no torch, no emulator.

Derived env values are computed once in ``EnvConfig.resolved()``; the run's sizes in ``TrainConfig``'s properties.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Literal

from pokerl_fast import runtime

ACTIONS = ("down", "left", "right", "up", "a", "b", "start")
"""The default action set: the d-pad, A, B and START (SELECT is never needed in Red)."""

VALID_BUTTONS = frozenset(("down", "left", "right", "up", "a", "b", "start", "select", "noop"))


@dataclass
class RewardConfig:
    """Weight of each reward term; the reward is the change of the weighted total each step. The event-based terms
    (events, required_events, badges, dex; key_items already) count the most the episode has seen, so a flag Red
    clears (the Safari Zone's game, a script resetting its own flags, a new game after the credits) costs nothing."""

    explore: float = 0.02
    """Per new tile visited on the global Kanto map this episode."""
    events: float = 0.5
    """Per event flag bit set (relative to the episode's start state; the most set at once this episode)."""
    required_events: float = 2.0
    """Extra weight per event that gates progress (constants.REQUIRED_EVENTS)."""
    badges: float = 5.0
    """Per gym badge obtained (the most held this episode)."""
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
    """Per Pokedex bit (seen + owned; the most this episode)."""
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
    start_save: str | None = None
    """Battery save (.sav: the cartridge RAM an emulator keeps beside the ROM, written by the game's SAVE) to start
    episodes from: the ROM boots with it, the title screen and CONTINUE are passed by script, and the player must be
    in free play where the game was saved (checked by RAM); cached like the game's own start. Not with start_state."""
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
    its global position, and every env's position joins its trail (watch.kanto_map.envs_picture; the trainer writes it
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
        if self.start_state is not None and self.start_save is not None:
            raise ValueError("start_state and start_save both name a start; pass one (--start-state FILE or "
                             "--start-save FILE.sav)")
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


@dataclass
class PPOConfig:
    """PPO hyperparameters. Defaults follow the reference Pokemon Red PPO trainer; sizes are scaled for 2 CPU cores."""

    num_steps: int = 128
    """env steps per env per rollout (the reference collects far more envs x steps on a GPU machine)"""
    bptt: int = 16
    """BPTT horizon: the rollout is cut into segments of this many steps for the LSTM"""
    gamma: float = 0.998
    """discount factor"""
    gae_lambda: float = 0.95
    """GAE lambda"""
    learning_rate: float = 2e-4
    """Adam learning rate"""
    anneal_lr: bool = False
    """decay the learning rate linearly to 0 over the run"""
    adam_eps: float = 1e-5
    """Adam epsilon"""
    num_minibatches: int = 4
    """minibatches per epoch; each holds (num_steps / bptt) * num_envs / num_minibatches segments"""
    update_epochs: int = 3
    """passes over each rollout"""
    norm_adv: bool = True
    """normalize advantages within each minibatch"""
    clip_coef: float = 0.1
    """policy ratio clip (and value clip when clip_vloss)"""
    clip_vloss: bool = True
    """clip the value-function update around the rollout's values"""
    ent_coef: float = 0.01
    """entropy bonus coefficient"""
    vf_coef: float = 0.5
    """value loss coefficient"""
    max_grad_norm: float = 0.5
    """global gradient norm clip"""
    target_kl: float | None = None
    """stop the epoch loop early when approx KL exceeds this (none = never)"""

def check_sizes(cfg: PPOConfig, num_envs: int) -> None:
    """Refuse rollout sizes that do not cut into whole segments and minibatches, saying what to change."""
    if cfg.num_steps % cfg.bptt:
        raise ValueError(f"num_steps={cfg.num_steps} is not a multiple of bptt={cfg.bptt}; change one of them")
    segments = cfg.num_steps // cfg.bptt * num_envs
    if segments % cfg.num_minibatches:
        raise ValueError(
            f"(num_steps/bptt)*num_envs = {segments} segments do not split into num_minibatches="
            f"{cfg.num_minibatches}; pick num_minibatches dividing {segments}"
        )

@dataclass
class PolicyConfig:
    """Policy network sizes."""

    hidden_size: int = 512
    """LSTM hidden size; also the width of the fused feature layer feeding it."""
    cnn_channels: tuple[int, int, int] = (32, 64, 64)
    """output channels of the three conv layers over the (screen, visited) image"""
    cnn_features: int = 512
    """width of the linear layer after the CNN"""
    map_embedding: int = 32
    """size of the learned embedding of the current map id"""
    ram_hidden: int = 128
    """width of the MLP layer over the RAM feature vector"""
    progress_hidden: int = 64
    """width of the MLP layer over the "progress" observation, when the env has one (observe_progress)"""
    bf16: bool | None = None
    """run the network under bfloat16 autocast; outputs and LSTM states stay float32. none (the default): the
    trainer turns it on where the hardware runs bfloat16 (a CPU with AVX512-BF16 or AMX, a CUDA GPU that supports
    it) and off elsewhere, says which in its first lines and keeps the choice in config.yaml (a Policy built with
    none runs float32). On this project's 2-core AMX CPU it trains the default policy about 1.25x faster"""
    fast_path: bool = True
    """the learner's fast path (docs/performance.md): the image made natively as 4x4 pixel blocks in the compute
    dtype and the first convolution run over them, the CNN of a training minibatch run once per distinct image,
    channels-last convolutions, the smallest layers in float32, weights cast to bfloat16 once per rollout instead of
    once per step, a fused Adam and denormal floats flushed to zero on the CPU. The same network and losses within
    float/bfloat16 rounding (tests/learn/test_fast_path.py); off: the plain path, kept so benchmarks can compare
    the two in one run"""

def training_env() -> EnvConfig:
    """The trainer's env defaults: the progress mechanisms chosen from the ablations on the benchmark world
    (docs/learning.md: round 1 turned on every mechanism, each of which raised what the policy earns alone from
    the start state; round 3 added swarming by cells of 8x8 steps, which reached the lab's milestones 2x sooner and
    the parcel, its delivery and Brock sooner over 3 seeds of 1M steps, and adaptive steps, which on top of cells
    reached Brock in all 3 seeds, in fewer steps and frames). The stuck detector marks and logs stuck envs but
    does not end their episodes: on the real game ending them cut every episode in the text and the battle
    between the starter and the lab's rival event (../shared/notes/real-game.md, 2026-12-07), while the benchmark
    world, which then had no such stretch, had measured it helpful; on the benchmark world with Red's speeches and
    menu battles (round 4), ending stuck episodes only in free play did not bring the parcel or the Pokedex sooner.
    Round 5 took each mechanism away on that world (docs/learning.md): without swarming, long episodes, the explore
    boost, the progress observation or adaptive steps fewer seeds reached the Pokedex in 500k steps; reset to
    archive never fires while swarming ends every episode first (it acts only with swarming off). Round 6 ran these
    defaults for 1.5M steps: Brock's gym in 3 of 3 seeds (median 666k steps), Brock beaten in none (battles are not
    won). ``EnvConfig()`` itself keeps every mechanism off, for env users and tests."""
    return EnvConfig(episode_length=16384, explore_reset_interval=2048, swarm_interval=512, reset_to_archive=0.25,
                     swarm_cell_size=8, swarm_archive_size=512, explore_boost=3.0, observe_progress=True,
                     stuck_steps=256, stuck_ends_episode=False, adaptive_steps=True, paint_interval=16, clip_steps=25)

@dataclass
class TrainConfig:
    """Everything a training run needs. Torch, numpy and Python RNGs are seeded with ``env.seed`` (``--seed``)."""

    run_dir: str | None = None
    """directory for config.yaml, checkpoints and TensorBoard logs (none: runs/<date>-<time>)"""
    total_steps: int = 2_000_000
    """env steps to train for, summed over envs (rounded up to whole rollouts)"""
    num_envs: int = 16
    """emulators stepped in parallel (16 keeps 2 cores busy with rollouts of num_envs * num_steps = 2048 steps)"""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """where the policy runs; auto: cuda when available, else cpu"""
    torch_threads: int = 0
    """torch CPU threads (0: one per CPU this process may use: its affinity mask, capped by a cgroup quota)"""
    deterministic: bool = False
    """torch.use_deterministic_algorithms: with torch_threads 1 a resumed run repeats an uninterrupted one exactly"""
    checkpoint_minutes: float = 10.0
    """write a checkpoint after the first update that ends this many minutes after the last one"""
    checkpoint_iterations: int = 0
    """also write one every this many updates (0: off)"""
    map_png_iterations: int = 10
    """write run_dir/explored_map.png (visits of all envs on the global Kanto map) every this many updates and at each checkpoint (0: only at checkpoints)"""
    keep_checkpoints: int = 3
    """checkpoints kept in run_dir/checkpoints (oldest deleted first; 0 keeps all)"""
    progress: bool = True
    """show a progress bar (only when stdout is a terminal; otherwise a status line every 10 s)"""
    wandb: bool = False
    """also log to Weights & Biases (needs the wandb package and network access)"""
    wandb_project: str = "pokerl_fast"
    """W&B project name"""
    eval_interval: int = 128
    """evaluate the policy alone (from the start state, no swarming) every this many updates, logged as eval/...
    and kept in progress.json (0: off). The default's cost was measured at under 5% of training time
    (docs/learning.md)"""
    eval_episodes: int = 8
    """episodes per evaluation, run as one batch of envs"""
    eval_steps: int = 2048
    """steps per evaluation episode (0: env.episode_length)"""
    overlap: Literal["auto", "on", "off"] = "auto"
    """learn from one rollout while the envs collect the next (the policy the envs act with is one update behind;
    PPO's ratio is taken against the log-probs they acted with): on a GPU the update runs on its own CUDA stream
    while the CPUs step the emulators. auto: on with --device cuda (not under torchrun), off on CPU, where the
    update and the emulators would share the same cores"""
    live_map_port: int = -1
    """serve the live map page on http://127.0.0.1:PORT/ (0: any free port, -1: off; --live-map [PORT] is the
    short form, port 8765 by default)"""
    env: EnvConfig = field(default_factory=training_env)
    """environment (the trainer's defaults turn the progress mechanisms on: see training_env)"""
    ppo: PPOConfig = field(default_factory=PPOConfig)
    """PPO"""
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    """network"""

    # Derived sizes, computed in one place (CleanRL's batch_size / minibatch_size / num_iterations).
    @property
    def batch_size(self) -> int:
        """env steps per rollout"""
        return self.num_envs * self.ppo.num_steps

    @property
    def num_segments(self) -> int:
        """BPTT segments per rollout"""
        return self.batch_size // self.ppo.bptt

    @property
    def minibatch_size(self) -> int:
        """env steps per minibatch"""
        return self.batch_size // self.ppo.num_minibatches

    @property
    def num_iterations(self) -> int:
        """rollout + update cycles"""
        return max(1, math.ceil(self.total_steps / self.batch_size))

    def validate(self) -> None:
        """Raise ValueError with a one-line fix for any bad value."""
        self.env.validate()
        if self.num_envs < 1:
            raise ValueError(f"num_envs must be >= 1 (got {self.num_envs})")
        if self.total_steps < 1:
            raise ValueError(f"total_steps must be >= 1 (got {self.total_steps})")
        check_sizes(self.ppo, self.num_envs)
        if self.eval_interval < 0:
            raise ValueError(f"eval_interval must be >= 0 (got {self.eval_interval}); 0 turns evaluation off")
        if self.eval_episodes < 1:
            raise ValueError(f"eval_episodes must be >= 1 (got {self.eval_episodes})")
        if self.eval_steps < 0:
            raise ValueError(f"eval_steps must be >= 0 (got {self.eval_steps}); 0 means env.episode_length")
