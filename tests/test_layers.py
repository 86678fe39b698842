"""The package's layers, read from its imports: each layer imports only the layers below it.

    base     config, cli, fileio, runtime        plain Python: every option, flags, files; no emulator, no torch
    game     pokerl_fast.game                    what Pokemon Red is: constants, ROM, start states, test world
    native   pokerl_fast._native                 the bindings (the Cython bridge and the pybind11 core, whose kernels
                                                 the policy uses too)
    env      pokerl_fast.env                     emulators stepped as one batch, Gymnasium envs, swarming, tallies
    learn    pokerl_fast.learn                   policy, PPO, checkpoints, ranks; the policy alone run on envs
    watch    pokerl_fast.watch                   map pictures, videos, the live page, the eval command
    run      pokerl_fast.run                     the trainer: loop, checks, learner, outputs, checkpoints, CLI
    entry    train, eval                         the two commands' module names (python -m pokerl_fast.train)
"""

import ast
import pathlib

import pokerl_fast

PACKAGE = pathlib.Path(pokerl_fast.__file__).resolve().parent

LAYERS = ("base", "game", "native", "env", "learn", "watch", "run", "entry")
ALLOWED = {
    "base": {"base"},
    "game": {"base", "game"},
    "native": set(),
    "env": {"base", "game", "native", "env"},
    "learn": {"base", "native", "env", "learn"},  # native: the policy's image kernels (csrc/blocks.h)
    "watch": {"base", "game", "native", "env", "learn", "watch"},
    "run": {"base", "game", "native", "env", "learn", "watch", "run"},
    "entry": {"run", "watch"},
}


def layer_of_module(name: str) -> str | None:
    """The layer of a dotted module name inside pokerl_fast (None for the package facade itself)."""
    parts = name.split(".")
    if parts[0] != "pokerl_fast" or len(parts) == 1:
        return None
    head = parts[1]
    if head in ("config", "fileio", "runtime", "cli"):
        return "base"
    if head in ("game", "env", "learn", "watch", "run"):
        return head
    if head == "_native":
        return "native"
    if head in ("train", "eval"):
        return "entry"
    raise AssertionError(f"module {name} belongs to no layer: add it to tests/test_layers.py")


def module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: pathlib.Path) -> list[tuple[int, str]]:
    """(line, module) for every pokerl_fast import in a file, top-level or inside functions."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("pokerl_fast")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pokerl_fast"):
            if node.module == "pokerl_fast":  # from pokerl_fast import env -> pokerl_fast.env
                found += [(node.lineno, f"pokerl_fast.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def python_files():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_has_a_layer():
    names = [module_name(p) for p in python_files()]
    assert len(names) > 20
    for name in names:
        layer_of_module(name)  # raises for a module outside every layer


def test_imports_flow_down_the_layers():
    bad = []
    for path in python_files():
        own = layer_of_module(module_name(path))
        if own is None:  # pokerl_fast/__init__.py re-exports make_env lazily: the facade may reach any layer
            continue
        for line, mod in imported_modules(path):
            other = layer_of_module(mod)
            if other is not None and other not in ALLOWED[own]:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({own}) imports {mod} ({other})")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_the_checker_sees_a_wrong_import(tmp_path):
    """The rule is not vacuous: an env module importing the learn layer, or watch importing the trainer, is caught."""
    f = tmp_path / "bad.py"
    f.write_text("import numpy\nfrom pokerl_fast.learn import ppo\n\ndef g():\n    import pokerl_fast.run.train\n")
    mods = [m for _, m in imported_modules(f)]
    assert mods == ["pokerl_fast.learn", "pokerl_fast.run.train"]
    assert [layer_of_module(m) for m in mods] == ["learn", "run"]
    assert "learn" not in ALLOWED["env"] and "run" not in ALLOWED["watch"]


def test_each_layer_allows_only_layers_below_it():
    for k, layer in enumerate(LAYERS):
        assert ALLOWED[layer] <= set(LAYERS[: k + 1]), layer


def test_the_top_level_shows_the_layers():
    """The package's top level: the layers' packages, the base modules and the two commands, nothing else."""
    top = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
           if p.name != "__pycache__" and (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert top == {"__init__", "config", "cli", "fileio", "runtime", "game", "_native", "env", "learn", "watch", "run",
                   "train", "eval"}
