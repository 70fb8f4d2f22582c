"""Playbook loading, hashing, params and lint: each problem named at file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.actions import default_registry
from ir.core.errors import PlaybookError
from ir.core.lint import lint
from ir.core.playbook import (
    LoadedPlaybook,
    Playbook,
    content_hash,
    load_playbook,
    parse_playbook,
    playbook_files,
    resolve_params,
)
from ir.core.yamlsafe import Located
from tests.conftest import REPO

HEAD = 'schema: ir/playbook/v1\nid: t\nversion: "1.0.0"\ntitle: T\n'


def lint_text(body: str) -> list[str]:
    return lint(parse_playbook(HEAD + body, "t.yaml"), default_registry())


@pytest.mark.parametrize("path", playbook_files(REPO / "playbooks"), ids=lambda p: p.name)
def test_every_shipped_playbook_lints_clean(path: Path) -> None:
    assert lint(load_playbook(path), default_registry()) == []


def test_content_hash_ignores_comments_and_layout_but_not_content() -> None:
    a = parse_playbook(HEAD + "steps:\n  - {id: a, title: A, action: container.pause, guidance: g}\n", "a")
    b = parse_playbook(
        "# comment\n" + HEAD + "steps:\n  - id: a\n    title: A\n    action: container.pause\n    guidance: g\n", "b"
    )
    c = parse_playbook(HEAD + "steps:\n  - {id: a, title: B, action: container.pause, guidance: g}\n", "c")
    assert a.sha256 == b.sha256 != c.sha256


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("steps: []\n", "t.yaml:5:1: steps: Tuple should have at least 1 item"),
        (
            "steps:\n  - {id: a, title: A, action: container.pause, colour: red}\n",
            "t.yaml:6:48: steps.0.colour: unknown field",
        ),
        ("steps:\n  - {id: A!, title: A, action: x}\n", "t.yaml:6:6: steps.0.id: String should match pattern"),
        (
            "steps:\n  - {id: a, title: A, action: x, timeout: soon}\n",
            "t.yaml:6:34: steps.0.timeout: Value error, 'soon' is not a duration",
        ),
    ],
)
def test_model_errors_point_at_the_field(body: str, message: str) -> None:
    with pytest.raises(PlaybookError) as info:
        parse_playbook(HEAD + body, "t.yaml")
    assert str(info.value).startswith(message), str(info.value)


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "01.0.0", 1.0])
def test_version_must_be_semver(version: object) -> None:
    text = HEAD.replace('"1.0.0"', repr(version) if not isinstance(version, str) else f'"{version}"')
    with pytest.raises(PlaybookError, match=r"t.yaml:3:1: version"):
        parse_playbook(text + "steps:\n  - {id: a, title: A, action: container.pause}\n", "t.yaml")


def test_wrong_schema_is_refused() -> None:
    with pytest.raises(PlaybookError, match=r"t.yaml:1:1: schema must be 'ir/playbook/v1'"):
        parse_playbook(HEAD.replace("ir/playbook/v1", "ir/playbook/v9") + "steps: []\n", "t.yaml")


def test_lint_catches_each_kind_of_mistake() -> None:
    problems = lint_text(
        "params: {p: {type: string}}\n"
        "steps:\n"
        "  - id: a\n    title: A\n    action: container.explode\n    guidance: g\n"  # 7-10
        "  - id: b\n    title: B\n    action: container.pause\n"  # 11-13
        "    with: {container: 3, extra: 1}\n    guidance: g\n"  # 14-15
        "  - id: c\n    title: C\n    action: container.pause\n    with: {container: '${{ steps.d.outputs.x }}'}\n"
        "    guidance: g\n"  # 16-20
        "  - id: d\n    title: D\n    action: container.stop\n    with: {container: '${{ steps.zz.outputs.x }}'}\n"
        "    guidance: ''\n"  # 21-25
        "  - id: b\n    title: B2\n    action: container.pause\n    with: {container: '${{ params.q }}'}\n"
        "    guidance: g\n"  # 26-30
    )
    expected = [
        "t.yaml:9:5: unknown action 'container.explode'",
        "t.yaml:14:12: with.container: Input should be a valid string",
        "t.yaml:14:26: with.extra: unknown field",
        "t.yaml:19:5: reference to step 'd', which runs later",
        "t.yaml:23:5: destructive action container.stop has no evidence step before it",
        "t.yaml:21:5: step 'd' has no guidance",
        "t.yaml:24:5: reference to unknown step 'zz'",
        "t.yaml:26:5: duplicate step id 'b'",
        "t.yaml:29:5: reference to undeclared param 'q'",
    ]
    assert len(problems) == len(expected), "\n".join(problems)
    for got, want in zip(problems, expected, strict=True):
        assert got.startswith(want), f"{got!r} does not start with {want!r}"


def test_bad_when_condition_is_a_lint_error() -> None:
    problems = lint_text("steps:\n  - {id: a, title: A, action: container.pause, guidance: g, when: 'params.x > 1'}\n")
    assert problems == ["t.yaml:6:61: bad condition 'params.x > 1': use REF, not REF, REF == VALUE or REF != VALUE"]


def test_params_are_converted_and_checked() -> None:
    book = load_playbook(REPO / "playbooks" / "agent-compromise.yaml").playbook
    assert resolve_params(book, {}) == {"stop_container": False, "stop_timeout": 10}
    assert resolve_params(book, {"stop_container": "true", "stop_timeout": "3"}) == {
        "stop_container": True,
        "stop_timeout": 3,
    }
    with pytest.raises(PlaybookError, match="'maybe' is not a boolean"):
        resolve_params(book, {"stop_container": "maybe"})
    with pytest.raises(PlaybookError, match="unknown param 'stop'"):
        resolve_params(book, {"stop": "1"})


def test_lint_of_a_13000_step_playbook_finds_exactly_the_planted_problems() -> None:
    # Built in memory (the YAML would be over the 1 MB file cap); bench/lint.py times the same.
    def step(i: int, ref: str) -> dict[str, object]:
        return {
            "id": f"s{i}",
            "title": "t",
            "action": "manual.follow_up",
            "guidance": "g",
            "with": {"what": f"${{{{ steps.{ref}.status }}}}", "owner": "o", "why": "w"},
        }

    steps: list[dict[str, object]] = [
        {"id": "s0", "title": "t", "action": "evidence.container_snapshot", "guidance": "g"}
    ]
    steps += [step(i, f"s{i - 1}") for i in range(1, 13_000)]
    steps[12_000]["id"] = "s5"
    steps[12_500] = step(12_500, "s12999")
    steps[12_998] = step(12_998, "nope")
    data = {"schema": "ir/playbook/v1", "id": "big", "version": "1.0.0", "title": "big", "steps": steps}
    marks = {("steps", i): (8 + i, 5) for i in range(len(steps))}
    located = Located(data=data, path="big.yaml", marks=marks)
    loaded = LoadedPlaybook(Playbook.model_validate(data), "", "big.yaml", content_hash(data), located)
    assert lint(loaded, default_registry()) == [
        "big.yaml:14:5: reference to step 's5', which runs later",  # s5 is also step 12000
        "big.yaml:12008:5: duplicate step id 's5'",
        "big.yaml:12009:5: reference to unknown step 's12000'",
        "big.yaml:12508:5: reference to step 's12999', which runs later",
        "big.yaml:13006:5: reference to unknown step 'nope'",
    ]


PARAMS = """params:
  n: {type: integer, default: 3, min: 1, max: 5}
  ratio: {type: number, min: 0}
  mode: {type: string, choices: [fast, careful], default: careful}
  name: {type: string, pattern: "[a-z]+"}
  tags: {type: list, choices: [a, b], default: [a]}
steps:
  - {id: a, title: A, action: container.pause, guidance: g}
"""


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"n": "0"}, "t.yaml:6:3: param n: 0 is less than the minimum 1"),
        ({"n": "6"}, "t.yaml:6:3: param n: 6 is more than the maximum 5"),
        ({"n": "2.5"}, "t.yaml:6:3: param n: '2.5' is not an integer"),
        ({"ratio": "-0.1"}, "t.yaml:7:3: param ratio: -0.1 is less than the minimum 0"),
        ({"ratio": "nan"}, "t.yaml:7:3: param ratio: 'nan' is not a finite number"),
        ({"mode": "reckless"}, "t.yaml:8:3: param mode: 'reckless' is not one of 'fast', 'careful'"),
        ({"name": "Robert'); --"}, "t.yaml:9:3: param name: \"Robert'); --\" does not match the pattern '[a-z]+'"),
        ({"tags": "a,c"}, "t.yaml:10:3: param tags: 'c' is not one of 'a', 'b'"),
        ({"nope": "1"}, "t.yaml:5:1: unknown param 'nope' (declared: mode, n, name, ratio, tags)"),
    ],
)
def test_given_params_are_held_to_their_declared_bounds(given: dict[str, str], message: str) -> None:
    loaded = parse_playbook(HEAD + PARAMS, "t.yaml")
    with pytest.raises(PlaybookError) as raised:
        resolve_params(loaded.playbook, given, loaded.located)
    assert str(raised.value) == message


def test_params_within_bounds_are_converted() -> None:
    loaded = parse_playbook(HEAD + PARAMS, "t.yaml")
    given = {"n": "5", "ratio": "0", "mode": "fast", "name": "abc", "tags": "b, a"}
    assert resolve_params(loaded.playbook, given, loaded.located) == {
        "n": 5,
        "ratio": 0.0,
        "mode": "fast",
        "name": "abc",
        "tags": ["b", "a"],
    }


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("{type: string, min: 1}", "min/max apply to integer and number params, not string"),
        ("{type: integer, min: 5, max: 1}", "min 5 is greater than max 1"),
        ("{type: integer, default: -5, min: 0}", "default -5 is less than the minimum 0"),
        ("{type: integer, default: ten}", "default 'ten' is not an integer"),
        ("{type: boolean, pattern: x}", "pattern applies to string and list params, not boolean"),
        ("{type: string, pattern: '('}", "pattern '(' is not a regular expression"),
        ("{type: integer, choices: [1, two]}", "'two' is not an integer"),
    ],
)
def test_param_declarations_that_cannot_hold_are_refused_at_load(declaration: str, message: str) -> None:
    body = f"params:\n  p: {declaration}\nsteps:\n  - {{id: a, title: A, action: container.pause, guidance: g}}\n"
    with pytest.raises(PlaybookError) as raised:
        parse_playbook(HEAD + body, "t.yaml")
    assert str(raised.value).startswith("t.yaml:6:3: params.p: ") and message in str(raised.value)


def test_the_shipped_stop_timeout_is_bounded_like_container_stop() -> None:
    loaded = load_playbook(REPO / "playbooks" / "agent-compromise.yaml")
    spec = loaded.playbook.params["stop_timeout"]
    assert (spec.min_, spec.max_) == (0, 600)
    with pytest.raises(PlaybookError, match=r"agent-compromise.yaml:\d+:3: param stop_timeout: -5 is less"):
        resolve_params(loaded.playbook, {"stop_timeout": "-5"}, loaded.located)
    reenable = load_playbook(REPO / "playbooks" / "agent-reenable.yaml")
    with pytest.raises(PlaybookError, match=r"param incident: '\.\./other/case' does not match"):
        resolve_params(reenable.playbook, {"incident": "../other/case"}, reenable.located)


def test_the_json_schema_knows_param_bounds() -> None:
    from ir.schema import playbook_json_schema

    param = playbook_json_schema(default_registry())["$defs"]["Param"]
    assert {"min", "max", "choices", "pattern"} <= set(param["properties"])
    numeric_only = next(rule for rule in param["allOf"] if "else" in rule)
    assert numeric_only["if"]["properties"]["type"]["enum"] == ["integer", "number"]
    assert set(numeric_only["else"]["properties"]) == {"min", "max"}
