"""``python -m pokerl_fast.game.testworld --png out.png [--rom-out path.gb] [--to ROOM X Y]``

Boots the test world in PyBoy, walks a scripted route (by default out of Red's house into Pallet Town)
and writes the screen as a PNG; optionally writes the ROM too.
"""

from __future__ import annotations

import pathlib
import sys

from pokerl_fast.cli import OneLineParser


def main(argv: list[str] | None = None) -> int:
    from pokerl_fast.game import testworld as tw

    parser = OneLineParser(prog="python -m pokerl_fast.game.testworld", description=__doc__.splitlines()[2])
    parser.add_argument("--png", type=pathlib.Path, help="write the screen after the walk to this PNG file")
    parser.add_argument("--rom-out", type=pathlib.Path, help="also write the ROM image to this path")
    parser.add_argument("--to", nargs=3, metavar=("ROOM", "X", "Y"), default=("PALLET_TOWN", "5", "6"),
                        help="where the scripted walk ends (a room name from the layout and a floor tile)")
    args = parser.parse_args(argv)
    if args.png is None and args.rom_out is None:
        parser.error("nothing to do: pass --png and/or --rom-out")
    if args.rom_out is not None:
        args.rom_out.parent.mkdir(parents=True, exist_ok=True)
        args.rom_out.write_bytes(tw.build_testworld_rom())
        print(f"wrote {args.rom_out} ({len(tw.build_testworld_rom())} bytes)")
    if args.png is not None:
        from pokerl_fast.game.emulator import new_pyboy

        from pokerl_fast.game.testworld.drive import DriveError
        from pokerl_fast.game.testworld.layout import LayoutError

        room_name = args.to[0]
        try:
            x, y = int(args.to[1]), int(args.to[2])
            if not tw.TEST.is_walkable(room_name, (x, y)):
                raise LayoutError(f"({x},{y}) in {room_name} is not a floor tile the player can stand on")
        except (LayoutError, ValueError) as e:
            parser.error(f"--to {' '.join(args.to)}: {e}")
        pyboy = new_pyboy(tw.testworld_rom_path())
        try:
            tw.boot(pyboy)
            steps = tw.go_to(pyboy, room_name, (x, y))
            pyboy.tick(2, render=True)
            args.png.parent.mkdir(parents=True, exist_ok=True)
            pyboy.screen.image.save(args.png)
        except DriveError as e:
            parser.error(f"--to {' '.join(args.to)}: {e}")
        finally:
            pyboy.stop(save=False)
        print(f"walked {steps} steps to {room_name} ({x}, {y}); wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
