"""Nested config dataclasses <-> command-line flags and YAML.

The command line is parsed by tyro: it makes a flag of every leaf field of a (nested) config dataclass and writes the
grouped ``--help`` (one box per section) from the docstring under each field (the CleanRL ``Args`` style). This
module owns only what tyro does not decide for us:

- **The spellings users have.** Every leaf keeps its full spelling (``--env.frames-per-step``, ``--num-envs`` for a
  top-level ``num_envs``); a field directly inside a top-level section whose name occurs nowhere else in the tree
  also keeps its short one (``--seed`` for ``env.seed``, ``--gamma`` for ``ppo.gamma``); a boolean also takes
  ``--no-X``, ``--no-env.X`` and tyro's ``--env.no-X``. ``none``/``null`` mean None and integers may be written
  ``2e6`` or ``2_000_000``. :func:`parse_flags` rewrites argv into tyro's spellings from a small walk of the tree
  (:func:`flag_names`), and tyro shows the short spellings in the help as aliases.
- **Which values the user typed.** :func:`parse_flags` returns only the fields whose flags appear on the command
  line (typed values, even one equal to its default), so a caller can layer defaults < saved run config < YAML
  file < command line with :func:`merge` and still know which values were asked for explicitly.
- **Errors.** A bad flag is one line and a :class:`ConfigError` (tyro's message without its box; for an integer,
  which we read ourselves, :func:`coerce`'s); ``run_main`` prints it as ``error: ...`` with exit code 2.
- **The layering**: :func:`coerce`, :func:`merge`, :func:`diff`, :func:`load_yaml`, :func:`dump_yaml` for YAML files
  and saved run configs.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import io
import sys
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import tyro
import yaml
from tyro.constructors import ConstructorRegistry, StructConstructorSpec, StructTypeInfo


class ConfigError(ValueError):
    """A config value or file is wrong; the message says which and how to fix it."""


def _nested_class(tp: Any) -> type | None:
    return tp if isinstance(tp, type) and dataclasses.is_dataclass(tp) else None


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


# --- command-line flags (tyro) ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Leaf:
    """One leaf field of the config tree and how it is spelled."""

    path: tuple[str, ...]
    type: Any
    owner: type
    """the dataclass the field belongs to"""
    spellings: tuple[str, ...]
    """ours, short one first when there is one"""

    @property
    def tyro_flag(self) -> str:
        return "--" + ".".join(self.path).replace("_", "-")

    @property
    def tyro_negation(self) -> str:
        return "--" + ".".join(self.path[:-1] + ("no_" + self.path[-1],)).replace("_", "-")


@functools.cache
def _leaves(cls: type) -> tuple[_Leaf, ...]:
    """Every leaf of the config tree rooted at ``cls`` with its spellings: the full dotted one, and the short one
    for a field directly inside a top-level section whose name occurs only once in the tree."""
    found: list[tuple[tuple[str, ...], Any, type]] = []

    def walk(klass: type, prefix: tuple[str, ...]) -> None:
        hints = typing.get_type_hints(klass)
        for f in dataclasses.fields(klass):
            if _nested_class(hints[f.name]) is not None:
                walk(hints[f.name], prefix + (f.name,))
            else:
                found.append((prefix + (f.name,), hints[f.name], klass))

    walk(cls, ())
    counts: dict[str, int] = {}
    for path, _, _ in found:
        counts[path[-1]] = counts.get(path[-1], 0) + 1
    out = []
    for path, tp, owner in found:
        full = "--" + ".".join(path).replace("_", "-")
        short = "--" + path[-1].replace("_", "-")
        spellings = (short, full) if len(path) == 2 and counts[path[-1]] == 1 else (full,)
        out.append(_Leaf(path, tp, owner, spellings))
    return tuple(out)


def flag_names(cls: type) -> dict[str, tuple[str, ...]]:
    """Dotted field path -> its command-line spellings, short one first (``'env.seed': ('--seed', '--env.seed')``).
    A boolean also takes ``--no-`` before each (``--no-auto-hm``, ``--no-env.auto-hm``) and tyro's
    ``--env.no-auto-hm``."""
    return {".".join(leaf.path): leaf.spellings for leaf in _leaves(cls)}


@functools.cache
def _spelling_table(cls: type) -> dict[str, tuple[_Leaf, bool | None]]:
    """Every accepted spelling (``_`` written as ``-``) -> (leaf, negated: True/False for a boolean, else None)."""
    table: dict[str, tuple[_Leaf, bool | None]] = {}
    for leaf in _leaves(cls):
        is_bool = leaf.type is bool
        for spelling in leaf.spellings:
            table[spelling] = (leaf, False if is_bool else None)
            if is_bool or _optional_bool(leaf.type):
                table["--no-" + spelling[2:]] = (leaf, True)
        if is_bool or _optional_bool(leaf.type):
            table[leaf.tyro_negation] = (leaf, True)
    return table


def _optional_bool(tp: Any) -> bool:
    """``bool | None``: a switch with a third state, none (the caller decides); ``--X`` alone is true, ``--no-X``
    false, ``--X none`` none (tyro wants a value each time)."""
    return set(_union_args(tp)) == {bool, type(None)}


def _arity(tp: Any) -> tuple[int | None, typing.Callable[[int], Any], bool]:
    """(number of value tokens, None: any; type of the k-th token; whether None is allowed) for a field type."""
    args = _union_args(tp)
    optional = type(None) in args
    rest = [a for a in args if a is not type(None)]
    if len(rest) == 1:
        tp = rest[0]
    if typing.get_origin(tp) is tuple:
        targs = typing.get_args(tp)
        if len(targs) == 2 and targs[1] is Ellipsis:
            return None, lambda k: targs[0], optional
        return len(targs), lambda k: targs[k], optional
    return 1, lambda k: tp, optional


def _token(value: str, tp: Any, optional: bool, spelled: str) -> str:
    """One value token as tyro reads it: ``None`` for none/null on an Optional field, integers in plain digits."""
    if optional and value.lower() in ("none", "null"):
        return "None"
    if tp is int or tp is bool:  # 2e6 for an int; true/no/on/... for a switch's value
        return str(coerce(value, tp, spelled))
    return value


def _to_tyro(cls: type, argv: list[str]) -> tuple[list[str], list[_Leaf]]:
    """argv rewritten into tyro's spellings, and the leaves whose flags it names (in order)."""
    table = _spelling_table(cls)
    out: list[str] = []
    typed: list[_Leaf] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        spelled, eq, value = token.partition("=")
        hit = table.get(spelled.replace("_", "-")) if token.startswith("--") else None
        if hit is None:
            out.append(token)  # tyro reports what it does not know
            continue
        leaf, negated = hit
        typed.append(leaf)
        if _optional_bool(leaf.type) and (negated or not eq and (i == len(argv) or argv[i].startswith("--"))):
            out += [leaf.tyro_flag, "False" if negated else "True"]
            continue
        if negated is not None:
            out.append((leaf.tyro_negation if negated else leaf.tyro_flag) + eq + value)
            continue
        nargs, type_of, optional = _arity(leaf.type)
        if eq:
            out.append(f"{leaf.tyro_flag}={_token(value, type_of(0), optional, spelled)}")
            continue
        out.append(leaf.tyro_flag)
        k = 0
        while i < len(argv) and (nargs is None or k < nargs) and not argv[i].startswith("--"):
            out.append(_token(argv[i], type_of(k), optional, spelled))
            i += 1
            k += 1
            if out[-1] == "None" and optional:
                break
    return out, typed


def _flat(text: str | None) -> str | None:
    """A docstring as paragraphs of single lines (tyro keeps the line breaks of an indented multi-line one)."""
    if not text:
        return text
    paragraphs = [" ".join(p.split()) for p in text.replace("\r", "").split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def _registry(cls: type) -> ConstructorRegistry:
    """tyro's dataclass rule, plus our short spellings as aliases (so ``--help`` shows them) and docstrings whose
    wrapped lines are joined."""
    aliases = {(leaf.owner, leaf.path[-1]): leaf.spellings[0] for leaf in _leaves(cls) if len(leaf.spellings) > 1}
    registry = ConstructorRegistry()
    delegating = []

    @registry.struct_rule
    def rule(info: StructTypeInfo) -> Any:
        if delegating or not dataclasses.is_dataclass(info.type):
            return None
        delegating.append(True)
        try:
            spec = ConstructorRegistry.get_struct_spec(info)  # tyro's own rule for this dataclass
        finally:
            delegating.pop()
        if not isinstance(spec, StructConstructorSpec):
            return spec
        fields = []
        for f in spec.fields:
            alias = aliases.get((info.type, f.name))
            help_ = f.helptext
            fields.append(dataclasses.replace(
                f,
                type=Annotated[f.type, tyro.conf.arg(aliases=(alias,))] if alias else f.type,
                helptext=(lambda h=help_: _flat(h())) if callable(help_) else _flat(help_),
            ))
        return dataclasses.replace(spec, fields=tuple(fields))

    return registry


@contextlib.contextmanager
def _no_ansi_codes():
    """No ANSI colour codes in what tyro writes during one call (it adds them when stdout is a terminal, even to
    stderr, which we capture). tyro has no argument for it, only this global option."""
    options = tyro._experimental_options
    saved = options["ansi_codes"]
    options["ansi_codes"] = False
    try:
        yield
    finally:
        options["ansi_codes"] = saved


def _box_message(text: str) -> str:
    """The message of tyro's error box as one line: the lines between its top border (or, without UTF-8 boxes, its
    title's rule) and the first rule, box characters stripped, joined by spaces."""
    def is_rule(s: str) -> bool:
        return bool(s) and set(s) <= set("─-")

    lines = [line.strip().strip("│").strip() for line in text.splitlines()]
    message: list[str] = []
    inside = False
    for line in lines:
        if not inside:
            inside = line.startswith("╭") or is_rule(line)
        elif is_rule(line) or line.startswith("╰"):
            break
        elif line:
            message.append(line)
    return " ".join(message) or " ".join(" ".join(lines).split()) or "bad command-line flags"


class _Capture(io.StringIO):
    """A StringIO that says it has stdout's encoding, so tyro draws the boxes it would draw there."""

    def __init__(self, like: Any):
        super().__init__()
        self._encoding = getattr(like, "encoding", None)

    @property
    def encoding(self):  # type: ignore[override]
        return self._encoding


def _print_help(cls: type, prog: str, description: str, head: argparse.ArgumentParser) -> None:
    shell = argparse.ArgumentParser(prog=prog, description=description, parents=[head], add_help=False,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
    shell.usage = shell.format_usage().strip().removeprefix("usage: ") + " [--OPTION VALUE ...]"
    groups = _Capture(sys.stdout)
    with contextlib.redirect_stdout(groups), _no_ansi_codes():
        try:
            tyro.cli(cls, prog=prog, description="", args=["--help"], registry=_registry(cls))
        except SystemExit:
            pass
    text = groups.getvalue()
    text = text.split("\n\n", 1)[1] if "\n\n" in text else text  # drop tyro's usage line: ours is above
    sys.stdout.write(shell.format_help() + "\n" + text.lstrip("\n"))
    sys.stdout.flush()


def parse_flags(cls: type, argv: list[str], *, prog: str, description: str,
                head: argparse.ArgumentParser) -> tuple[argparse.Namespace, dict]:
    """Parse a command line: ``head``'s options (made by the caller with ``add_help=False``: the few that are not
    config fields) into the namespace, the rest by tyro into the fields of ``cls``. Returns the namespace and the
    overrides: a nested dict of only the fields whose flags appear in ``argv``, typed (``{"num_envs": 4, "ppo":
    {"gamma": 0.95}}``), ready for :func:`merge`. ``-h``/``--help`` anywhere prints the help and exits 0; a bad
    flag or value raises :class:`ConfigError` with one line ending in ``see PROG --help``."""
    argv = list(argv)
    if "-h" in argv or "--help" in argv:
        _print_help(cls, prog, description, head)
        raise SystemExit(0)

    def one_line(message: str) -> ConfigError:
        return ConfigError(f"{message.strip().removesuffix('.')}; see {prog} --help")

    def head_error(message: str):
        raise one_line(message)

    # head's usage errors as one line (not argparse's usage line, error line and exit), and no abbreviations
    # (``--conf``), which could take a config flag that starts like one of head's options.
    abbrev = head.allow_abbrev
    head.error = head_error  # type: ignore[method-assign]
    head.allow_abbrev = False
    try:
        ns, rest = head.parse_known_args(argv)
    finally:
        del head.error
        head.allow_abbrev = abbrev
    try:
        args, typed = _to_tyro(cls, rest)
    except ConfigError as e:
        raise one_line(str(e)) from None
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), _no_ansi_codes():
            result = tyro.cli(cls, prog=prog, args=args, registry=_registry(cls))
    except SystemExit as e:
        if e.code == 2:
            raise one_line(_box_message(errors.getvalue())) from None
        sys.stderr.write(errors.getvalue())
        raise
    sys.stderr.write(errors.getvalue())  # warnings, if tyro had any
    overrides: dict = {}
    for leaf in typed:
        node, value = overrides, result
        for part in leaf.path[:-1]:
            node = node.setdefault(part, {})
            value = getattr(value, part)
        node[leaf.path[-1]] = getattr(value, leaf.path[-1])
    return ns, overrides


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
