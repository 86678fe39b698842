"""The package's layers, read from its imports: each layer imports only the layers below it.

    base     config, fileio, runtime, cli   plain Python, no emulator, no torch
    game     pokerl_fast.game               what Pokemon Red is: constants, ROM, start states, Kanto map, test world
    native   pokerl_fast._native            the bindings (the Cython bridge and the pybind11 core)
    env      pokerl_fast.env                emulators stepped as one batch, Gymnasium envs, swarming
    learn    pokerl_fast.learn              policy, PPO, checkpoints: tensors, not emulators
    top      train, evaluate, logger        the trainer
"""

import ast
import pathlib

import pokerl_fast

PACKAGE = pathlib.Path(pokerl_fast.__file__).resolve().parent

ALLOWED = {
    "base": {"base"},
    "game": {"base", "game"},
    "native": set(),
    "env": {"base", "game", "native", "env"},
    "learn": {"base", "learn"},
    "top": {"base", "game", "native", "env", "learn", "top"},
}


def layer_of_module(name: str) -> str | None:
    """The layer of a dotted module name inside pokerl_fast (None for the package facade itself)."""
    parts = name.split(".")
    if parts[0] != "pokerl_fast" or len(parts) == 1:
        return None
    head = parts[1]
    if head in ("config", "fileio", "runtime", "cli", "video"):
        return "base"
    if head in ("game", "env", "learn"):
        return head
    if head == "_native":
        return "native"
    if head in ("train", "evaluate", "eval", "live", "logger", "__main__"):
        return "top"
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
    """The rule is not vacuous: a learn module importing the env layer is caught."""
    f = tmp_path / "bad.py"
    f.write_text("import numpy\nfrom pokerl_fast.env import vector\n\ndef g():\n    import pokerl_fast.game.rom\n")
    mods = [m for _, m in imported_modules(f)]
    assert mods == ["pokerl_fast.env", "pokerl_fast.game.rom"]
    assert "env" not in ALLOWED["learn"] and "game" not in ALLOWED["learn"]
