"""Nested config dataclasses <-> argparse flags and YAML.

Every leaf field of a (nested) dataclass becomes a flag spelled with its full path, ``--env.frames-per-step`` for
``env.frames_per_step`` and ``--num-envs`` for a top-level ``num_envs``. A field directly inside a section whose name
occurs nowhere else in the tree also gets the short spelling (``--seed`` for ``env.seed``, ``--gamma`` for
``ppo.gamma``); deeper fields (``--env.reward.badges``) only have the full one. The flag's help is the docstring
written under the field (the CleanRL ``Args`` style), read from the source with ``ast``.

Flags are parsed with ``default=SUPPRESS``: the parser returns only what the user typed, so a caller can layer
defaults < YAML file < saved run config < command line and still know which values were asked for explicitly.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml


class ConfigError(ValueError):
    """A config value or file is wrong; the message says which and how to fix it."""


# --- field docstrings -------------------------------------------------------------------------------------------


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """Docstrings written right under each field of a dataclass (``x: int = 1`` then ``\"\"\"doc\"\"\"``)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        body = ast.parse(source).body[0].body
        for node, nxt in zip(body, body[1:] + [None]):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            ):
                docs[node.target.id] = " ".join(nxt.value.value.split())
    for f in dataclasses.fields(cls):
        if "help" in f.metadata:
            docs[f.name] = f.metadata["help"]
    return docs


# --- walking nested dataclasses ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Leaf:
    """One scalar/tuple field somewhere in the config tree."""

    path: tuple[str, ...]
    type: Any
    default: Any
    doc: str
    flags: tuple[str, ...] = ()
    """command-line spellings, short one first when there is one"""


def _default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _nested_class(tp: Any) -> type | None:
    return tp if isinstance(tp, type) and dataclasses.is_dataclass(tp) else None


def leaves(cls: type, prefix: tuple[str, ...] = (), defaults: Any = None) -> list[Leaf]:
    """Every leaf of the config tree rooted at ``cls``, with its unique command-line flag. A nested section's
    defaults are those of the instance its parent's field makes (``defaults``), so a parent may choose its own
    (the trainer's env defaults differ from EnvConfig's)."""
    out: list[Leaf] = []
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        default = getattr(defaults, f.name) if defaults is not None else _default_of(f)
        if _nested_class(tp) is not None:
            out.extend(leaves(tp, prefix + (f.name,), default if default is not dataclasses.MISSING else None))
        else:
            out.append(Leaf(prefix + (f.name,), tp, default, docs.get(f.name, "")))
    if prefix:
        return out
    counts: dict[str, int] = {}
    for leaf in out:
        counts[leaf.path[-1]] = counts.get(leaf.path[-1], 0) + 1
    named = []
    for leaf in out:
        full = "--" + ".".join(leaf.path).replace("_", "-")
        short = "--" + leaf.path[-1].replace("_", "-")
        flags = (short, full) if len(leaf.path) == 2 and counts[leaf.path[-1]] == 1 else (full,)
        named.append(dataclasses.replace(leaf, flags=flags))
    return named


def sections(cls: type) -> dict[str, type]:
    """Nested dataclass fields of ``cls``: section name -> class."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if _nested_class(hints[f.name]) is not None}


# --- values -----------------------------------------------------------------------------------------------------


def _union_args(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return ()


def coerce(value: Any, tp: Any, where: str) -> Any:
    """Convert a YAML/JSON/command-line value to field type ``tp``; one clear error if it cannot be done."""
    args = _union_args(tp)
    if args:
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce(value, arg, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{where}: cannot be {value!r}")
    origin = typing.get_origin(tp)
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(str, choices))}")
        return value
    if origin is tuple:
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        targs = typing.get_args(tp)
        if len(targs) == 2 and targs[1] is Ellipsis:
            return tuple(coerce(v, targs[0], where) for v in value)
        if len(value) != len(targs):
            raise ConfigError(f"{where}: expected {len(targs)} values, got {len(value)} ({value!r})")
        return tuple(coerce(v, t, where) for v, t in zip(value, targs))
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on", "false", "no", "0", "off"):
            return value.lower() in ("true", "yes", "1", "on")
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        try:
            as_float = float(str(value).replace("_", ""))
        except ValueError:
            raise ConfigError(f"{where}: expected an integer, got {value!r}") from None
        if not as_float.is_integer():
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return int(as_float)
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return str(value)
    if tp is Any or tp is object:
        return value
    raise ConfigError(f"{where}: unsupported field type {tp!r}")


def to_dict(obj: Any) -> Any:
    """A dataclass tree as plain nested dicts/lists (YAML/JSON ready)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def merge(obj: Any, data: dict, where: str = "config") -> Any:
    """A copy of dataclass ``obj`` with values from nested dict ``data``; unknown keys are an error."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of field names, got {data!r}")
    cls = type(obj)
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    changes = {}
    for key, value in data.items():
        key = str(key).replace("-", "_")
        if key not in names:
            raise ConfigError(
                f"{where}: unknown field {key!r}; known fields are {', '.join(sorted(names))}"
            )
        if _nested_class(hints[key]) is not None:
            changes[key] = merge(getattr(obj, key), value or {}, f"{where}.{key}")
        else:
            changes[key] = coerce(value, hints[key], f"{where}.{key}")
    return dataclasses.replace(obj, **changes)


def diff(a: Any, b: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Leaf fields whose values differ between two config trees (as plain dicts): (dotted name, a, b)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out.extend(diff(a.get(key), b.get(key), f"{prefix}{key}."))
        return out
    return [] if a == b else [(prefix.rstrip("."), a, b)]


def load_yaml(path: str | Path) -> dict:
    """Read a YAML config file into a nested dict (sections as mappings)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; check the --config path") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"config file {path} is not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of field names, not {type(data).__name__}")
    return data


def dump_yaml(obj: Any) -> str:
    return yaml.safe_dump(to_dict(obj), sort_keys=False)


# --- argparse ---------------------------------------------------------------------------------------------------


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    pass


def add_config_flags(parser: argparse.ArgumentParser, cls: type) -> list[Leaf]:
    """Add one flag per leaf of ``cls`` (grouped by section). Parsed values land in ``dest = 'a.b'``."""
    groups: dict[tuple[str, ...], argparse._ArgumentGroup] = {}
    all_leaves = leaves(cls)
    for leaf in all_leaves:
        key = leaf.path[:-1]
        if key not in groups:
            section = cls
            for part in key:
                section = sections(section)[part]
            doc = (inspect.getdoc(section) or "").split("\n")[0]
            groups[key] = parser.add_argument_group(f"{'.'.join(key) or 'main'} options", doc)
        kwargs: dict[str, Any] = {"dest": ".".join(leaf.path), "default": argparse.SUPPRESS}
        tp = leaf.type
        non_none = [a for a in _union_args(tp) if a is not type(None)]
        default = leaf.default
        shown = "none" if default is None else " ".join(map(str, default)) if isinstance(default, tuple) else default
        kwargs["help"] = f"{leaf.doc or '(undocumented)'} [default: {shown}]"
        if tp is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(tp) is Literal:
            kwargs["choices"] = typing.get_args(tp)
        elif typing.get_origin(tp) is tuple:
            targs = typing.get_args(tp)
            kwargs["nargs"] = "+" if len(targs) == 2 and targs[1] is Ellipsis else len(targs)
            kwargs["metavar"] = targs[0].__name__.upper()
        else:
            shown_type = non_none[0] if non_none else tp
            kwargs["metavar"] = getattr(shown_type, "__name__", "VALUE").upper()
        groups[key].add_argument(*leaf.flags, **kwargs)
    return all_leaves


def overrides_from_args(ns: argparse.Namespace, all_leaves: list[Leaf]) -> dict:
    """The flags the user actually typed, converted to their fields' types (a ConfigError naming the flag when
    one cannot be), as a nested dict ready for :func:`merge`."""
    out: dict = {}
    values = vars(ns)
    for leaf in all_leaves:
        dest = ".".join(leaf.path)
        if dest in values:
            node = out
            for part in leaf.path[:-1]:
                node = node.setdefault(part, {})
            node[leaf.path[-1]] = coerce(values[dest], leaf.type, leaf.flags[0])
    return out


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (``error: ...; see --help``) and exit code 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message}; see {self.prog} --help\n")


def run_main(body, errors: tuple[type[BaseException], ...], interrupted: str) -> int:
    """A command's main(): ``body()``, then exit code 0; one of ``errors`` is one ``error:`` line and code 2;
    Ctrl-C is the ``interrupted`` line and code 130."""
    try:
        body()
    except errors as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
    return 0
