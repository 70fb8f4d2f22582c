"""Strict YAML: aliases, anchors, merge keys and duplicate keys are refused with their position."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.core.yamlsafe import MAX_DEPTH, YamlInputError, load_file, load_text


def test_positions_of_keys_and_items_are_known() -> None:
    doc = load_text("a: 1\nsteps:\n  - id: x\n    with: {k: v}\n", "p.yaml")
    assert doc.data == {"a": 1, "steps": [{"id": "x", "with": {"k": "v"}}]}
    assert doc.where(("steps", 0, "id")) == "p.yaml:3:5"
    assert doc.where(("steps", 0, "with", "k")) == "p.yaml:4:12"
    assert doc.where(("steps", 0, "nothing", "deeper")) == "p.yaml:3:5"


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("a: &x 1\nb: *x\n", "p.yaml:1:4", "anchors are not allowed"),
        ("a: [1]\nb: *x\n", "p.yaml:2:4", "aliases are not allowed"),
        ("a: 1\nb: 2\na: 3\n", "p.yaml:3:1", "duplicate key 'a'"),
        ("base: {x: 1}\nc:\n  <<: {y: 2}\n", "p.yaml:3:3", "merge keys"),
        ("a: [1, 2\n", "p.yaml:2:1", "expected"),
        ("a: 1\n---\nb: 2\n", "p.yaml:2:1", "single document"),
    ],
)
def test_refused_documents_name_file_line_col(text: str, where: str, what: str) -> None:
    with pytest.raises(YamlInputError) as info:
        load_text(text, "p.yaml")
    assert str(info.value).startswith(where + ":"), str(info.value)
    assert what in str(info.value)


def test_billion_laughs_is_refused_before_expansion() -> None:
    bomb = 'a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
    with pytest.raises(YamlInputError, match="anchors are not allowed"):
        load_text(bomb, "bomb.yaml")


def test_invalid_utf8_and_oversized_files_are_input_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: \xff\xfe\n")
    with pytest.raises(YamlInputError, match=r"bad.yaml:2:1: not valid UTF-8"):
        load_file(bad)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * 10_000_001 + b"\n")
    with pytest.raises(YamlInputError, match="larger than"):
        load_file(big)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("a: b\x00c\n", "p.yaml:1:5", "control character U+0000 is not allowed"),
        ("a: 1\nb:\n  c: 'x\x1by'\n", "p.yaml:3:8", "control character U+001B is not allowed"),
        ("a: 1\nb: \x7f\n", "p.yaml:2:4", "control character U+007F is not allowed"),
    ],
)
def test_control_characters_are_input_errors_at_their_place(text: str, where: str, what: str) -> None:
    with pytest.raises(YamlInputError) as info:
        load_text(text, "p.yaml")
    assert str(info.value).startswith(where + ": " + what), str(info.value)


def block_nesting(levels: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(levels)) + "  " * levels + "v: 1\n"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (block_nesting(400), "p.yaml:65:129"),
        ("a: " + "[" * 400 + "]" * 400 + "\n", "p.yaml:1:67"),
        ("a: " + "{b: " * 400 + "1" + "}" * 400 + "\n", "p.yaml:1:256"),
    ],
)
def test_deep_nesting_is_refused_where_the_cap_is_passed(text: str, where: str) -> None:
    with pytest.raises(YamlInputError) as info:
        load_text(text, "p.yaml")
    assert str(info.value) == f"{where}: nested deeper than {MAX_DEPTH} levels (flatten the document)"


def test_nesting_up_to_the_cap_loads() -> None:
    doc = load_text("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n", "p.yaml")
    depth, value = 1, doc.data["a"]
    while value:
        depth, value = depth + 1, value[0]
    assert depth == MAX_DEPTH - 1


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("title: 2001-13-45\n", "p.yaml:1:8", "'2001-13-45' is not a valid timestamp: month must be in 1..12"),
        ("a: 1\n2001-02-30: x\n", "p.yaml:2:1", "'2001-02-30' is not a valid timestamp: day is out of range"),
        ("x_big: " + "9" * 5000 + "\n", "p.yaml:1:8", "integer literal longer than 100 digits"),
        ("x: -" + "1_" * 101 + "1\n", "p.yaml:1:4", "integer literal longer than 100 digits"),
    ],
    ids=["month-13", "date-key", "5000-digits", "signed-underscored"],
)
def test_a_value_yaml_cannot_build_is_an_input_error_at_its_place(text: str, where: str, what: str) -> None:
    with pytest.raises(YamlInputError) as info:
        load_text(text, "p.yaml")
    assert str(info.value).startswith(f"{where}: {what}"), str(info.value)
    assert len(str(info.value)) < 200


def test_an_integer_of_100_digits_and_a_real_date_still_load() -> None:
    doc = load_text("n: " + "9" * 100 + "\nd: 2001-12-01\n", "p.yaml")
    assert doc.data["n"] == int("9" * 100) and str(doc.data["d"]) == "2001-12-01"
