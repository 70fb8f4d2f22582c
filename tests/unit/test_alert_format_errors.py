"""Bad bodies: one plain AlertFormatError naming the place, never any other exception."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ir.alerts.formats import MAX_DEPTH, decode, detect, normalise
from ir.alerts.model import FORMATS, Alert, AlertFormatError

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "alerts"
SAMPLES = sorted(FIXTURES.rglob("*.json"))


# --- decode ------------------------------------------------------------------------------------


def test_invalid_utf8_names_the_byte() -> None:
    with pytest.raises(AlertFormatError, match=r"^invalid UTF-8 at byte 12$"):
        decode(b'{"rule": "ab\xff\xfe"}')


def test_bad_json_names_line_and_column() -> None:
    with pytest.raises(AlertFormatError, match=r"^line 2 col 5: Expecting property name enclosed in double quotes"):
        decode(b'{"a": 1,\n    }')
    with pytest.raises(AlertFormatError, match=r"^line 1 col 1: Expecting value"):
        decode(b"")


def test_nesting_is_capped_even_far_beyond_the_interpreters_recursion_limit() -> None:
    assert decode(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    for depth in (MAX_DEPTH + 1, 100_000):
        with pytest.raises(AlertFormatError, match=rf"^JSON nested deeper than {MAX_DEPTH} levels$"):
            decode(b'{"a":' * depth + b"1" + b"}" * depth)


def test_integers_beyond_64_bits_decode_and_absurd_ones_are_refused_plainly() -> None:
    assert decode(b'{"count": 18446744073709551617}') == {"count": 2**64 + 1}
    with pytest.raises(AlertFormatError, match=r"^invalid JSON number: an integer of 5000 digits"):
        decode(b'{"count": ' + b"9" * 5000 + b"}")


def test_nan_infinity_and_lone_surrogates_are_refused() -> None:
    for raw in (b'{"severity": NaN}', b"[Infinity]", b"[-Infinity]"):
        with pytest.raises(AlertFormatError, match=r"is not JSON$"):
            decode(raw)
    with pytest.raises(AlertFormatError, match=r"unpaired surrogate \\ud800"):
        decode(b'{"rule": "\\ud800"}')


# --- shape errors name their place ----------------------------------------------------------------


def _fixture(name: str) -> object:
    return decode((FIXTURES / name).read_bytes())


SHAPE_ERRORS = [
    (
        "alertmanager",
        lambda b: b["alerts"][1].update(labels=["x"]),
        r"^alerts\[1\]\.labels: expected an object, got a list$",
    ),
    (
        "alertmanager",
        lambda b: b["alerts"][0]["labels"].update(agent_id=7),
        r"^alerts\[0\]\.labels\.agent_id: expected a string, got a number$",
    ),
    ("alertmanager", lambda b: b.pop("alerts"), r"^alerts: required, missing$"),
    (
        "alertmanager",
        lambda b: b["alerts"][0].update(status="pending\x1b[2J"),
        r'^alerts\[0\]\.status: expected "firing" or "resolved", got "pending\\u001b\[2J"$',
    ),
    (
        "eventbridge",
        lambda b: b["detail"]["findings"][0].update(finding_info=None),
        r"^detail\.findings\[0\]\.finding_info: required, missing$",
    ),
    (
        "eventbridge",
        lambda b: b["detail"]["findings"][0]["resources"].append(3),
        r"^detail\.findings\[0\]\.resources\[1\]: expected an object, got a number$",
    ),
    ("falco", lambda b: b.update(output_fields="x"), r"^output_fields: expected an object, got a string$"),
    ("falco", lambda b: b.update(tags=["ok", None]), r"^tags\[1\]: expected a string, got null$"),
    ("cloudevents", lambda b: b.update(specversion="0.3"), r'^specversion: expected "1.0", got "0.3"$'),
    ("cloudevents", lambda b: b.update(data=[1]), r"^data: expected an object, got a list$"),
]


@pytest.mark.parametrize(("fmt", "mutate", "message"), SHAPE_ERRORS)
def test_shape_errors_name_the_place(fmt: str, mutate: object, message: str) -> None:
    sample = {
        "alertmanager": "alertmanager/am025-group-firing-resolved.json",
        "eventbridge": "eventbridge/securityhub-v2-ocsf-guardduty.json",
        "falco": "falco/falco-docs-terminal-shell.json",
        "cloudevents": "cloudevents/agent-ir-alert.json",
    }[fmt]
    value = _fixture(sample)
    assert callable(mutate)
    mutate(value)
    with pytest.raises(AlertFormatError, match=message):
        normalise(fmt, value, source="t")


def test_detect_says_why_nothing_fits() -> None:
    with pytest.raises(AlertFormatError, match=r"^body: expected a JSON object, got a list$"):
        detect([1, 2])
    with pytest.raises(AlertFormatError, match=r"^body: not an alert format agent-ir reads"):
        detect({"hello": "world"})


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(AlertFormatError, match=r"^unknown alert format 'nagios'"):
        normalise("nagios", {}, source="t")


# --- no JSON value makes any reader raise anything else ------------------------------------------

GARBAGE: list[object] = [
    None,
    True,
    0,
    -1,
    2**70,
    1e308,
    -0.0,
    "",
    " ",
    "\x1b[2J\u202e",
    [],
    [None],
    [[[]]],
    {},
    {"": None},
    {"alerts": {}},
    {"detail-type": "GuardDuty Finding", "detail": []},
    {"specversion": "1.0", "type": "dev.agent-ir.alert", "id": 1, "source": []},
]


def _paths(value: object, prefix: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*prefix, i))


def _replaced(value: object, path: tuple[object, ...], new: object) -> object:
    if not path:
        return copy.deepcopy(new)
    out = copy.deepcopy(value)
    holder = out
    for step in path[:-1]:
        holder = holder[step]  # type: ignore[index]
    holder[path[-1]] = copy.deepcopy(new)  # type: ignore[index]
    return out


def _only_alerts_or_format_errors(fmt: str, value: object) -> None:
    try:
        alerts = normalise(fmt, value, source="fuzz")
    except AlertFormatError as exc:
        assert str(exc) and "\n" not in str(exc) and "\x1b" not in str(exc)
        return
    assert all(isinstance(a, Alert) for a in alerts)


@pytest.mark.parametrize("value", GARBAGE, ids=[json.dumps(g)[:30] for g in GARBAGE])
def test_any_json_value_as_a_whole_body(value: object) -> None:
    for fmt in FORMATS:
        _only_alerts_or_format_errors(fmt, value)
    with contextlib.suppress(AlertFormatError):
        detect(value)


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_value_of_every_sample_replaced_by_garbage(sample: Path) -> None:
    original = decode(sample.read_bytes())
    fmt = sample.parent.name
    for path in _paths(original):
        for new in GARBAGE:
            _only_alerts_or_format_errors(fmt, _replaced(original, path, new))


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_sample_read_as_every_other_format(sample: Path) -> None:
    value = decode(sample.read_bytes())
    for fmt in FORMATS:
        _only_alerts_or_format_errors(fmt, value)


def test_truncated_and_byte_flipped_samples_fail_only_with_format_errors() -> None:
    for sample in SAMPLES:
        raw = sample.read_bytes()
        cuts = [raw[:n] for n in range(0, len(raw), max(1, len(raw) // 40))]
        flips = [raw[:n] + bytes([raw[n] ^ 0x80]) + raw[n + 1 :] for n in range(0, len(raw), max(1, len(raw) // 40))]
        for mangled in cuts + flips:
            try:
                value = decode(mangled)
            except AlertFormatError:
                continue
            for fmt in FORMATS:
                _only_alerts_or_format_errors(fmt, value)
