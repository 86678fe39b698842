"""The trainer's command-line flags (pokerl_fast/cli.py: tyro builds them, we keep the spellings users have), on the
real trainer config: every spelling of every field, the typed-values answer the layering needs, the help and the
one-line errors. In-process, no emulator."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import re
import textwrap
import typing
from typing import Any, Literal

import pytest

from pokerl_fast import cli
from pokerl_fast.config import TrainConfig

PROG = "python -m pokerl_fast.train"
LIVE_MAP_PORT = 8765


def head() -> argparse.ArgumentParser:
    """The trainer's options that are not config fields, as its command line makes them."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config", metavar="FILE.yaml", help="YAML file of option values (sections as mappings)")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its newest checkpoint")
    parser.add_argument("--live-map", nargs="?", const=LIVE_MAP_PORT, type=int, metavar="PORT",
                        help="serve a live map of the run on http://127.0.0.1:PORT/")
    return parser


def parse(*argv: str) -> tuple[argparse.Namespace, dict]:
    return cli.parse_flags(TrainConfig, list(argv), prog=PROG, description="Train a PPO agent.", head=head())


def leaves(cls: type = TrainConfig, prefix: tuple[str, ...] = (), owner: Any = None) -> list[tuple[str, Any, Any]]:
    """(dotted path, type, default) of every leaf field, defaults as the trainer makes them."""
    owner = cls() if owner is None else owner
    out = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        value = getattr(owner, f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            out += leaves(hints[f.name], prefix + (f.name,), value)
        else:
            out.append((".".join(prefix + (f.name,)), hints[f.name], value))
    return out


LEAVES = leaves()


def nested(path: str, value: Any) -> dict:
    *sections, name = path.split(".")
    out: dict = {name: value}
    for section in reversed(sections):
        out = {section: out}
    return out


def other_value(tp: Any, default: Any) -> tuple[list[str], Any]:
    """Command-line tokens for a value other than the default, and the value they mean."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if type(None) in typing.get_args(tp):
        tp = args[0]
    origin = typing.get_origin(tp)
    if origin is Literal:
        choice = next(c for c in typing.get_args(tp) if c != default)
        return [choice], choice
    if origin is tuple:
        targs = typing.get_args(tp)
        if targs[-1] is Ellipsis:
            return ["up", "a"], ("up", "a")
        values = tuple(3 + i for i in range(len(targs)))
        return [str(v) for v in values], values
    if tp is int:
        return [str((default or 0) + 3)], (default or 0) + 3
    if tp is float:
        return [str((default or 0.0) + 0.5)], (default or 0.0) + 0.5
    if tp is str:
        return ["somewhere/else"], "somewhere/else"
    raise AssertionError(f"no sample value for {tp}")


def test_the_config_has_the_field_types_the_flags_handle():
    kinds = {str(tp) for _, tp, _ in LEAVES}
    assert {"<class 'int'>", "<class 'float'>", "<class 'bool'>", "<class 'str'>"} <= kinds
    assert any(typing.get_origin(tp) is Literal for _, tp, _ in LEAVES)
    assert any(typing.get_origin(tp) is tuple for _, tp, _ in LEAVES)
    assert set(cli.flag_names(TrainConfig)) == {path for path, _, _ in LEAVES}


def test_flag_names_follow_the_spelling_rule():
    names = cli.flag_names(TrainConfig)
    assert names["num_envs"] == ("--num-envs",)
    assert names["env.seed"] == ("--seed", "--env.seed")
    assert names["ppo.gamma"] == ("--gamma", "--ppo.gamma")
    assert names["policy.cnn_channels"] == ("--cnn-channels", "--policy.cnn-channels")
    assert names["env.rom"] == ("--rom", "--env.rom")
    assert names["env.reward.badges"] == ("--env.reward.badges",)  # deeper than a top-level section: full only
    for path, spellings in names.items():
        assert spellings[-1] == "--" + path.replace("_", "-")
        assert len(spellings) == (2 if path.count(".") == 1 else 1), path


@pytest.mark.parametrize("path, tp, default", LEAVES, ids=[p for p, _, _ in LEAVES])
def test_every_spelling_of_every_field_sets_that_field(path, tp, default):
    for spelling in cli.flag_names(TrainConfig)[path]:
        if set(typing.get_args(tp)) == {bool, type(None)}:  # a switch whose default (none) the trainer decides
            assert parse(spelling)[1] == nested(path, True), spelling
            assert parse("--no-" + spelling[2:])[1] == nested(path, False), spelling
            assert parse(spelling, "off")[1] == nested(path, False), spelling
            assert parse(spelling, "none")[1] == nested(path, None), spelling
            assert parse(spelling, "--num-envs", "3")[1] == {**nested(path, True), "num_envs": 3}, spelling
        elif tp is bool:
            assert parse(spelling)[1] == nested(path, True), spelling
            assert parse("--no-" + spelling[2:])[1] == nested(path, False), spelling
        else:
            tokens, value = other_value(tp, default)
            assert value != default
            _, overrides = parse(spelling, *tokens)
            assert overrides == nested(path, value), spelling
            assert type(overrides_value(overrides, path)) is type(value), spelling


def overrides_value(overrides: dict, path: str) -> Any:
    for part in path.split("."):
        overrides = overrides[part]
    return overrides


@pytest.mark.parametrize("flag", ["--no-stuck-ends-episode", "--no-env.stuck-ends-episode",
                                  "--env.no-stuck-ends-episode"])
def test_a_boolean_is_turned_off_by_each_negative_spelling(flag):
    assert parse("--stuck-ends-episode", flag)[1] == {"env": {"stuck_ends_episode": False}}
    assert parse(flag, "--env.stuck-ends-episode")[1] == {"env": {"stuck_ends_episode": True}}  # the last one wins


def test_top_level_booleans_and_trainer_defaults_that_are_on():
    assert parse("--no-progress")[1] == {"progress": False}
    assert parse("--deterministic")[1] == {"deterministic": True}
    assert parse("--no-auto-hm", "--env.no-adaptive-steps")[1] == {"env": {"auto_hm": False, "adaptive_steps": False}}


@pytest.mark.parametrize("word", ["none", "None", "NULL", "null"])
def test_none_or_null_means_none_for_an_optional_field(word):
    assert parse("--target-kl", word, "--rom", word, "--run-dir", word)[1] == {
        "ppo": {"target_kl": None}, "env": {"rom": None}, "run_dir": None}
    assert parse("--ppo.target-kl=" + word)[1] == {"ppo": {"target_kl": None}}


def test_an_optional_field_still_takes_a_value():
    assert parse("--target-kl", "0.02", "--rom", "red.gb")[1] == {"ppo": {"target_kl": 0.02}, "env": {"rom": "red.gb"}}


@pytest.mark.parametrize("written, value", [("2e6", 2_000_000), ("2_000_000", 2_000_000), ("2000000", 2_000_000),
                                            ("1.5e3", 1500), ("-5", -5)])
def test_integers_may_be_written_in_scientific_or_grouped_form(written, value):
    overrides = parse("--total-steps", written)[1]
    assert overrides == {"total_steps": value} and type(overrides["total_steps"]) is int


def test_integers_inside_tuples_too():
    assert parse("--cnn-channels", "4", "8e0", "1_6")[1] == {"policy": {"cnn_channels": (4, 8, 16)}}


def test_flag_equals_value():
    assert parse("--num-envs=4", "--env.seed=-3", "--gamma=0.9", "--env.reward.badges=2.5", "--device=cpu")[1] == {
        "num_envs": 4, "env": {"seed": -3, "reward": {"badges": 2.5}}, "ppo": {"gamma": 0.9}, "device": "cpu"}


def test_underscores_in_a_flag_name_are_hyphens():
    assert parse("--num_envs", "4", "--frames_per_step", "12")[1] == {"num_envs": 4, "env": {"frames_per_step": 12}}


def test_overrides_hold_only_what_was_typed():
    assert parse()[1] == {}
    default = TrainConfig()
    _, overrides = parse("--num-envs", str(default.num_envs), "--gamma", str(default.ppo.gamma))
    assert overrides == {"num_envs": default.num_envs, "ppo": {"gamma": default.ppo.gamma}}  # equal to the default
    _, overrides = parse("--num-envs", "3", "--num-envs", "5")
    assert overrides == {"num_envs": 5}  # the last one wins


def test_overrides_layer_onto_the_trainer_defaults_with_merge():
    _, overrides = parse("--cnn-channels", "4", "8", "8", "--actions", "up", "a", "--seed", "7", "--no-progress")
    cfg = cli.merge(TrainConfig(), overrides, "command line")
    assert cfg.policy.cnn_channels == (4, 8, 8) and cfg.env.actions == ("up", "a") and cfg.env.seed == 7
    assert cfg.progress is False
    assert cfg.env.episode_length == TrainConfig().env.episode_length  # untouched: the trainer's env default stays


def test_head_options_come_back_in_the_namespace():
    ns, overrides = parse("--config", "c.yaml", "--num-envs", "4", "--resume", "runs/a")
    assert (ns.config, ns.resume, ns.live_map) == ("c.yaml", "runs/a", None)
    assert overrides == {"num_envs": 4}
    ns, overrides = parse("--live-map", "--seed", "3")
    assert ns.live_map == LIVE_MAP_PORT and overrides == {"env": {"seed": 3}}
    ns, overrides = parse("--seed", "3", "--live-map")
    assert ns.live_map == LIVE_MAP_PORT
    ns, overrides = parse("--live-map", "9000")
    assert ns.live_map == 9000 and overrides == {}
    ns, overrides = parse("--live-map-port", "9001")  # a config field that starts like a head option
    assert ns.live_map is None and overrides == {"live_map_port": 9001}


# --- help -------------------------------------------------------------------------------------------------------


def docstrings(cls: type) -> dict[str, str]:
    """The docstring under each field, read from the source independently of tyro."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    return {
        node.target.id: " ".join(nxt.value.value.split())
        for node, nxt in zip(body, body[1:])
        if isinstance(node, ast.AnnAssign) and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
    }


def field_docs() -> dict[str, str]:
    out = {}

    def walk(cls: type, prefix: str) -> None:
        docs = docstrings(cls)
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name], f"{prefix}{f.name}.")
            else:
                out[prefix + f.name] = docs.get(f.name, "")

    walk(TrainConfig, "")
    return out


@pytest.fixture
def help_text(capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "80")  # one column of boxes, 80 wide
    with pytest.raises(SystemExit) as done:
        parse("--num-envs", "3", "--help")
    assert done.value.code == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def words(text: str) -> str:
    """Help text as one line of words, box borders dropped."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_help_shows_every_flag_and_the_start_of_its_docstring(help_text):
    flat = words(help_text)
    for path, doc in field_docs().items():
        assert doc, f"{path} has no docstring"
        for spelling in cli.flag_names(TrainConfig)[path]:
            assert re.search(rf"(?<![\w.-]){re.escape(spelling)}(?![\w-])", help_text), spelling
        assert " ".join(doc.split()[:4]) in flat, (path, doc)


def test_help_shows_a_multi_line_docstring_as_one_paragraph(help_text):
    # tyro keeps the line breaks of an indented multi-line docstring (eval_interval's breaks after "eval/...");
    # cli's registry rule joins them, so the text is wrapped only at the box's width
    assert any("logged as eval/... and kept in" in line for line in help_text.splitlines())


def test_help_has_usage_description_head_options_and_sections(help_text):
    assert help_text.startswith(f"usage: {PROG} [--config FILE.yaml] [--resume RUN_DIR]")
    assert "[--live-map [PORT]] [--OPTION VALUE ...]" in " ".join(help_text.split())
    assert "Train a PPO agent." in help_text
    for option in ("--config FILE.yaml", "--resume RUN_DIR", "--live-map [PORT]", "-h, --help"):
        assert option in help_text, option
    for title in ("options", "env options", "env.reward options", "ppo options", "policy options"):
        assert re.search(rf"─ {re.escape(title)} ─|^ {re.escape(title)}\s*$", help_text, re.M), title
    assert "(default: 16384)" in help_text  # env.episode_length: the trainer's env default, not EnvConfig's
    for shown in ("{auto,cpu,cuda}", "{None}|FLOAT", "{None}|STR", "INT INT INT"):
        assert shown in help_text, shown


def test_help_anywhere_exits_0_before_checking_anything():
    with pytest.raises(SystemExit) as done:
        parse("--bogus", "-h")
    assert done.value.code == 0


# --- errors -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, fragment", [
    (["--num-envs", "abc"], "--num-envs: expected an integer, got 'abc'"),
    (["--seed", "1.5"], "--seed: expected an integer, got '1.5'"),
    (["--cnn-channels", "4", "x", "8"], "--cnn-channels: expected an integer, got 'x'"),
    (["--gamma", "x"], "could not convert string to float: 'x'"),
    (["--device", "tpu"], "invalid choice 'tpu' for argument '--device'"),
    (["--bogus", "1"], "Unrecognized options: --bogus"),
    (["stray"], "Unrecognized options: stray"),
    (["--num-envs"], "Missing value for argument '--num-envs'"),
    (["--cnn-channels", "4", "8"], "Expected 3 values"),
    (["--live-map", "abc"], "argument --live-map: invalid int value: 'abc'"),
    (["--deterministic=yes"], "Unrecognized options"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_a_bad_flag_is_one_line_and_a_config_error(argv, fragment, capsys):
    with pytest.raises(cli.ConfigError) as err:
        parse(*argv)
    message = str(err.value)
    assert "\n" not in message
    assert message.endswith(f"; see {PROG} --help"), message
    assert fragment in message, message
    assert not re.search(r"[│╭╮╰╯─]", message), message
    assert capsys.readouterr() == ("", "")  # nothing printed: run_main prints the one line


def test_a_bad_flag_through_run_main_is_one_error_line_and_exit_2(capsys):
    code = cli.run_main(lambda: parse("--num-envs", "abc"), (cli.ConfigError,), "interrupted")
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.splitlines() == [f"error: --num-envs: expected an integer, got 'abc'; see {PROG} --help"]
