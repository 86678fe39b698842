"""The random policy's floor on a world: per milestone, the share of episodes that reach it and the median step.

``python benchmarks/random_floor.py --rom benchworld --episodes 32 --steps 10240`` runs uniformly random actions
through the real vector env (the training defaults otherwise) from the start state (or, with ``--after
MILESTONE``, from where the benchmark world's scripted route reached it), ``--episodes`` episodes of ``--steps``
steps, and prints a markdown table (docs/benchworld.md keeps the measured one). Counts, not timings: it may run
beside other work.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

import pokerl_fast
from pokerl_fast.env.progress import MILESTONE_NAMES
from pokerl_fast.game import constants as C


def route_state(milestone: str) -> bytes:
    """A benchmark-world state just after the scripted route (testworld.route) reached ``milestone``, in control."""
    import io

    from pokerl_fast.game.emulator import new_pyboy
    from pokerl_fast.game.testworld import benchworld_rom_path, boot
    from pokerl_fast.game.testworld.drive import play_scene
    from pokerl_fast.game.testworld.route import ROUTE

    names = [name for name, _ in ROUTE]
    if milestone not in names:
        raise SystemExit(f"--after {milestone}: not a route milestone; pick one of {names}")
    pb = new_pyboy(benchworld_rom_path())
    try:
        boot(pb)
        for name, action in ROUTE[:names.index(milestone) + 1]:
            action(pb)
            play_scene(pb)
        buf = io.BytesIO()
        pb.save_state(buf)
        return buf.getvalue()
    finally:
        pb.stop(save=False)


def random_floor(rom: str, episodes: int, steps: int, num_envs: int = 16, seed: int = 0,
                 start_state: bytes | None = None) -> dict:
    num_envs = min(num_envs, episodes)
    envs = pokerl_fast.make_vec_env(num_envs, rom=rom, seed=seed, episode_length=steps, start_state=start_state)
    rng = np.random.default_rng(seed)
    rows, tiles, maps = [], [], []
    try:
        envs.reset(seed=seed)
        seen_maps = [set() for _ in range(num_envs)]
        while len(rows) < episodes:
            _, _, _, _, info = envs.step(rng.integers(0, envs.single_action_space.n, num_envs))
            map_ids = envs._obs["map_id"][:, 0]
            for i in range(num_envs):
                seen_maps[i].add(int(map_ids[i]))
            if "_episode" in info:
                for i in np.flatnonzero(info["_episode"]):
                    rows.append(info["final"]["milestone_steps"][i].copy())
                    tiles.append(float(info["final"]["explore"][i]))
                    maps.append(seen_maps[i])
                    seen_maps[i] = set()
    finally:
        envs.close()
    rows = np.array(rows[:episodes])
    out = {"episodes": episodes, "steps": steps, "tiles_mean": float(np.mean(tiles[:episodes])),
           "maps_mean": float(np.mean([len(v) for v in maps[:episodes]])), "milestones": {}, "maps": {}}
    names = {m[0]: m[1] for m in C.MAPS}
    for map_id in sorted(set().union(*maps[:episodes])):
        out["maps"][names.get(map_id, str(map_id))] = float(np.mean([map_id in v for v in maps[:episodes]]))
    for k, name in enumerate(MILESTONE_NAMES):
        reached = rows[:, k] > 0
        if reached.any():
            out["milestones"][name] = {"rate": float(reached.mean()), "median_step": float(np.median(rows[reached, k])),
                                       "p90_step": float(np.percentile(rows[reached, k], 90))}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rom", default="benchworld")
    ap.add_argument("--episodes", type=int, default=32)
    ap.add_argument("--steps", type=int, default=10240)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write the result here")
    ap.add_argument("--after", metavar="MILESTONE",
                    help="benchworld: start every episode where the scripted route reached this milestone (e.g. "
                         "EVENT_GOT_STARTER) instead of the bedroom; steps count from there")
    args = ap.parse_args(argv)
    state = route_state(args.after) if args.after else None
    res = random_floor(args.rom, args.episodes, args.steps, seed=args.seed, start_state=state)
    where = f" from {args.after}" if args.after else ""
    print(f"random policy{where}, {res['episodes']} episodes x {res['steps']} steps: "
          f"{res['tiles_mean']:.0f} tiles, {res['maps_mean']:.1f} maps per episode")
    print("| milestone | episodes reaching it | median step | 90th percentile |\n|---|---|---|---|")
    for name in MILESTONE_NAMES:
        m = res["milestones"].get(name)
        if m:
            print(f"| {name} | {m['rate']:.1%} | {m['median_step']:,.0f} | {m['p90_step']:,.0f} |")
    print("| (every other milestone) | 0% | - |")
    print("\n| map | episodes that entered it |\n|---|---|")
    for name, share in sorted(res["maps"].items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {share:.1%} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
