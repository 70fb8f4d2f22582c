"""The journal's vocabulary: typed kinds and payloads, one reader, and cases written before them.

`tests/fixtures/cases/` holds two cases written by `ir run` on the demo before record kinds were
typed (an incident contained over several resumes, with a skip, a note and a reenable decision;
and its re-enable run). `tests/fixtures/golden/` holds what the code of that day made of them:
the replayed state, the CLI printer's lines, the run screen's lines and statuses, and the shape
of `ir run --json`. Today's code must make exactly the same of them.
"""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from ir.cli.console import EventPrinter, print_summary
from ir.core.case import CaseState, RunStatus, StepStatus, load_state
from ir.core.errors import JournalError
from ir.core.events import Event, RunSummary
from ir.core.journal import Journal, Record, read
from ir.core.records import PAYLOADS, Checkpoint, Kind, Payload, StepResult, parse, payload_of
from ir.core.verify import verify_case
from ir.tui.run_lines import log_line, step_status
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
GOLDEN = FIXTURES / "golden"
INCIDENT = "20261121T183607Z-support-bot-agent-compromise-cd70"
REENABLE = "20261121T183614Z-support-bot-agent-reenable-4d50"
NAMES = {INCIDENT: "compromise", REENABLE: "reenable"}
KINDS = {k.value for k in Kind}


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    """A copy of the cases written before the vocabulary (verify and readers never write, but be safe)."""
    target = tmp_path / "cases"
    shutil.copytree(FIXTURES / "cases", target)
    return target


def records_of(case_dir: Path) -> list[Record]:
    checked = read(case_dir / "journal.jsonl")
    assert checked.ok, checked.problems
    return checked.records


def state_view(state: CaseState) -> dict[str, Any]:
    """The parts of the state the code before the vocabulary had, in the form it kept them."""
    return {
        "status": str(state.run_status),
        "head": list(state.head),
        "steps": {k: [str(v.status), v.outputs, v.error, v.intent_open, v.attempts] for k, v in state.steps.items()},
        "approvals": state.approvals,
        "overrides": state.overrides,
        "priors": state.priors,
        "evidence": [dict(e) for e in state.evidence],
        "unavailable": [dict(u) for u in state.unavailable],
        "follow_ups": [{k: f.get(k) for k in ("step", "what", "owner", "why")} for f in state.follow_ups],
        "decisions": [dict(d) for d in state.decisions],
        "aborted": state.aborted,
        "case_id": state.case_id,
        "started": state.started,
    }


def test_cases_written_before_the_vocabulary_verify_and_replay_to_the_same_state(cases: Path) -> None:
    before = json.loads((GOLDEN / "state.json").read_text())
    for name in (INCIDENT, REENABLE):
        report = verify_case(cases / name)
        assert report.ok, report.problems
        state = CaseState.replay(records_of(cases / name))
        assert json.loads(json.dumps(state_view(state), sort_keys=True)) == before[name]


def test_the_reader_answers_what_screens_ask_of_an_old_case(cases: Path) -> None:
    state = load_state(cases / INCIDENT)
    assert state.run is not None and state.run.playbook.id == "agent-compromise" and state.agent_id == "support-bot"
    skipped = state.step("console").skipped
    assert skipped is not None and (skipped.by, skipped.reason) == ("alice", "no console users in this account")
    by_when = state.step("stop").skipped
    assert by_when is not None and by_when.by is None and by_when.reason.startswith("when:")
    assert state.step("secrets").approved_by == "alice"
    assert state.actions["minted-keys"] == "credentials.deactivate_keys"
    assert [(n.by, n.step, n.text) for n in state.notes] == [
        ("alice", "snapshot", "container logs show exfil to pastebin")
    ]
    assert [f.owner for f in state.follow_ups] == ["secops@example.com", "platform@example.com"]
    (decision,) = state.decisions
    assert (decision.decision, decision.by, decision.approved_by, decision.approved) == (
        "reenable",
        "alice",
        "bob",
        True,
    )
    assert (decision.seq, decision.hash) == state.head
    assert state.finished is not None and state.finished.status == "succeeded"
    assert state.waiting is None and state.still_live == []


def test_every_old_record_parses_to_its_kind_and_reads_back_as_written(cases: Path) -> None:
    seen: set[Kind] = set()
    for name in (INCIDENT, REENABLE):
        for rec in records_of(cases / name):
            kind = Kind(rec.type)
            payload = payload_of(rec)
            assert type(payload) is PAYLOADS[kind]
            assert dict(payload) == rec.data  # nothing lost, nothing added: `--json` and re-hashing see the same
            seen.add(kind)
    assert len(seen) == 16


def test_the_cli_printer_and_the_run_screen_say_what_they_said_before(cases: Path) -> None:
    synthetic = json.loads((GOLDEN / "synthetic.json").read_text())
    inputs = {
        NAMES[name]: [(r.type, r.data, r.seq, name) for r in records_of(cases / name)] for name in (INCIDENT, REENABLE)
    }
    inputs["synthetic"] = [(kind, data, seq, "C") for seq, (kind, data) in enumerate(synthetic, start=1)]
    for label, rows in inputs.items():
        out = io.StringIO()
        printer = EventPrinter(out)
        screen = []
        for kind, data, seq, case in rows:
            printer(Event(kind=kind, data=data, step=data.get("step"), case=case, seq=seq, ts="t"))
            payload = parse(kind, data)
            moved = step_status(payload)
            step, status = (moved[0], str(moved[1])) if moved else (None, None)
            screen.append(f"{step}\t{status}\t{log_line(payload)}")
        assert out.getvalue() == (GOLDEN / f"{label}.printed.txt").read_text(), label
        assert "\n".join(screen) + "\n" == (GOLDEN / f"{label}.screen.txt").read_text(), label


def test_the_run_summary_prints_follow_ups_from_the_reader_as_before(cases: Path) -> None:
    state = load_state(cases / INCIDENT)
    printed = []
    for as_json in (False, True):
        steps = {k: str(v.status) for k, v in state.steps.items()}
        summary = RunSummary(
            status=state.run_status,
            steps=steps,
            case_dir="cases/x",
            case_id="x",
            head=state.head,
            message="done",
            follow_ups=tuple(state.follow_ups),
        )
        out = io.StringIO()
        print_summary(summary, out, as_json=as_json)
        printed.append(out.getvalue())
    human, as_json = (GOLDEN / "compromise.summary.txt").read_text().rsplit("\n{", 1)
    # The head line now also says whether the head was signed (this summary carries no signer).
    assert printed[0] == human.replace("365562a522\ndone", "365562a522 (not signed)\ndone") + "\n"
    before, now = json.loads("{" + as_json), json.loads(printed[1])
    assert {k: now[k] for k in before} == before  # the contract is extended, never renamed


def _extends(now: list[dict[str, Any]], before: list[list[Any]]) -> list[str]:
    """What of the old `--json` stream is missing from the new one (new events and keys are fine)."""
    missing, it = [], iter(now)
    for old in before:
        if old[0] == "summary":
            summary = now[-1]
            gone = set(old[1]) - set(summary)
            if gone or summary["status"] != old[2] or summary["steps"] != old[3]:
                missing.append(f"summary: {sorted(gone)} {summary['status']} {summary['steps']}")
            if [sorted(set(f) & set(keys)) for f, keys in zip(summary["follow_ups"], old[4], strict=False)] != old[4]:
                missing.append("summary follow_ups")
            continue
        found = next((o for o in it if o.get("event") == old[0] and o.get("step") == old[1]), None)
        if found is None or set(old[2]) - set(found) or set(old[3]) - set(found["data"]):
            missing.append(f"{old[0]} {old[1]}")
    return missing


def test_run_json_keeps_its_shape(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws)
    assert run.returncode == 0, run.stderr
    now = [json.loads(line) for line in run.stdout.splitlines()]
    assert _extends(now, json.loads((GOLDEN / "run.json-shape.json").read_text())) == []
    assert _extends(now[:-3] + now[-1:], json.loads((GOLDEN / "run.json-shape.json").read_text())) != []


def test_a_kind_is_written_as_the_plain_string_it_always_was(tmp_path: Path) -> None:
    with Journal(tmp_path).open(create=True) as journal:
        journal.append(Kind.NOTE, {"by": "alice", "text": "hello"})
    line = json.loads((tmp_path / "journal.jsonl").read_text())
    assert line["type"] == "note" and type(line["type"]) is str
    event = Event(kind=Kind.STEP_PLANNED, data={"step": "s"})
    assert json.dumps(event.as_dict(), sort_keys=True).startswith(
        '{"case": null, "data": {"step": "s"}, "event": "step.planned"'
    )
    assert verify_case(tmp_path).ok


def test_a_record_that_does_not_fit_its_kind_is_one_line_naming_its_place() -> None:
    rec = Record(seq=7, ts="t", type="step.result", data={"step": "keys"}, prev="0", hash="h")
    with pytest.raises(JournalError) as caught:
        CaseState().apply(rec)
    assert str(caught.value) == "journal seq 7: step.result record: status: field required"
    assert isinstance(parse("step.result", {"step": "k", "status": "failed", "new_field": 1}), StepResult)


def test_a_kind_from_a_newer_agent_ir_is_kept_and_changes_nothing() -> None:
    state = CaseState()
    state.apply(Record(seq=1, ts="t", type="future.kind", data={"step": "freeze", "x": 1}, prev="0", hash="h"))
    assert type(parse("future.kind", {"x": 1})) is Payload and dict(parse("future.kind", {"x": 1})) == {"x": 1}
    assert state.steps == {} and state.head == (1, "h")
    assert state.step("freeze").status == StepStatus.PENDING


KIND_SHAPE = re.compile(r"[a-z_]+(\.[a-z_]+)+")
"""What a record kind looks like (`step.result`), as opposed to a sentence that holds a dot."""


def _string_calls(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, literal) of every `append("..."`, `write("..."`, `record("..."` and `Event(kind="..."`."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        first = node.args[0] if node.args else None
        literal = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
        if name in ("append", "write", "record") and literal and (literal in KINDS or KIND_SHAPE.fullmatch(literal)):
            found.append((node.lineno, literal))
        for kw in node.keywords:
            if name == "Event" and kw.arg == "kind" and isinstance(kw.value, ast.Constant):
                found.append((node.lineno, str(kw.value.value)))
    return found


def test_writers_pass_a_kind_and_no_screen_or_printer_compares_record_type_strings() -> None:
    dotted = {k.value for k in Kind if "." in k.value}
    problems = []
    for path in sorted((REPO / "ir").rglob("*.py")):
        rel = path.relative_to(REPO)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        problems += [f"{rel}:{line}: writes the bare string {text!r}" for line, text in _string_calls(tree)]
        if rel.parts[1] in ("cli", "tui", "actions") or rel.name == "case.py":
            problems += [
                f"{rel}:{node.lineno}: names record kind {node.value!r} as a string"
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant) and node.value in dotted
            ]
    assert problems == []


def test_the_checker_above_sees_a_bare_string_writer() -> None:
    tree = ast.parse('journal.append("note", {})\nrec.write("step.output", {})\nEvent(kind="step.planned")\n')
    assert [text for _line, text in _string_calls(tree)] == ["note", "step.output", "step.planned"]


def renamed_compromise(ws: Path) -> None:
    """The shipped agent-compromise playbook with every step id renamed (and every reference to it)."""
    text = (ws / "playbooks" / "agent-compromise.yaml").read_text()
    ids = [line.split("id:", 1)[1].strip() for line in text.splitlines() if line.startswith("  - id:")]
    for old in sorted(ids, key=len, reverse=True):
        text = text.replace(f"  - id: {old}\n", f"  - id: team-{old}\n").replace(f"steps.{old}.", f"steps.team-{old}.")
    text = text.replace("id: agent-compromise", "id: team-compromise", 1)
    (ws / "playbooks" / "team-compromise.yaml").write_text(text)


def test_reenable_reads_the_incident_by_action_not_by_step_id(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    renamed_compromise(ws)
    contained = ir_cmd("run", "team-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws)
    assert contained.returncode == 0, contained.stdout + contained.stderr
    summary = json.loads(contained.stdout.splitlines()[-1])
    assert "team-keys" in summary["steps"] and "keys" not in summary["steps"]
    incident = Path(summary["case"]).name
    release = ir_cmd(
        "run", "agent-reenable", "--agent", "support-bot", "--param", f"incident={incident}", "--json", cwd=ws
    )
    events = [json.loads(line) for line in release.stdout.splitlines()]
    read_out = next(e["data"]["outputs"] for e in events if e.get("event") == "step.result" and e["step"] == "incident")
    assert read_out["deactivated"] == {
        "agent-support-bot": ["AKIAEXAMPLEDEMO00001", "AKIAEXAMPLEDEMO00002"],
        "support-bot-helper": ["AKIAEXAMPLEDEMO00003"],
    }
    assert [n["name"] for n in read_out["networks"]] == ["agents-net", "egress-proxy"]
    assert read_out["minted_users"] == ["support-bot-helper"]


def test_the_records_other_parts_of_issue_9_add_parse_and_fold() -> None:
    head = {"seq": 41, "hash": "ab" * 32}
    rows: list[tuple[str, dict[str, Any]]] = [
        (
            "run.started",
            {"case": "c1", "playbook": {"id": "agent-compromise", "version": "1.2.0"}, "agent": {"id": "a"}},
        ),
        ("step.skipped", {"step": "minted-keys", "reason": "when: steps.minted.status == succeeded is false"}),
        ("evidence.parts_removed", {"files": [{"name": "filesystem.tar.tmp", "size": 4096}]}),
        (
            "derived.added",
            {"step": "timeline", "name": "timeline", "path": "timeline.jsonl", "sha256": "cd", "size": 9},
        ),
        ("note", {"by": "bot", "text": "second alert", "attached": {"request": "r1", "alert": "x"}}),
        (
            "run.finished",
            {
                "status": "incomplete",
                "steps": {"minted-keys": "skipped"},
                "message": None,
                "follow_ups": 0,
                "still_live": [{"what": "access key AKIA3 of support-bot-helper is Active", "step": "minted-keys"}],
            },
        ),
        (
            "checkpoint",
            {
                "signed": head,
                "principal": "alice",
                "key": "SHA256:xyz",
                "namespace": "agent-ir",
                "reason": "run",
                "signature": "-----BEGIN SSH SIGNATURE-----",
            },
        ),
    ]
    state = CaseState()
    for seq, (kind, data) in enumerate(rows, start=1):
        payload = parse(kind, data)
        assert type(payload) is PAYLOADS[Kind(kind)] and dict(payload) == data
        state.apply(Record(seq=seq, ts="t", type=kind, data=data, prev="0", hash=f"h{seq}"))
    assert state.run_status == RunStatus.INCOMPLETE
    assert [(item.what, item.step) for item in state.still_live] == [
        ("access key AKIA3 of support-bot-helper is Active", "minted-keys")
    ]
    skipped = state.step("minted-keys").skipped
    assert skipped is not None and skipped.by is None
    assert state.notes[0].attached == {"request": "r1", "alert": "x"}
    checkpoint = parse(*rows[-1])
    assert isinstance(checkpoint, Checkpoint) and checkpoint.signed == head


def test_ir_cases_lists_old_cases_as_before(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    shutil.copytree(FIXTURES / "cases", ws / "cases")
    listed = ir_cmd("cases", cwd=ws, check=True).stdout.splitlines()
    assert listed == [
        f"{REENABLE:<60} support-bot      agent-reenable 1.0.0  succeeded",
        f"{INCIDENT:<60} support-bot      agent-compromise 1.2.0  succeeded",
    ]


@pytest.mark.parametrize("kind", ["step.result", "run.finished"])
def test_a_status_no_reader_knows_is_one_journal_error_line(tmp_path: Path, kind: str) -> None:
    # The record chains (anyone can write one); its status is not a status: one line, no traceback.
    from ir.core.errors import JournalError
    from ir.core.journal import Journal

    with Journal(tmp_path).open(create=True) as journal:
        journal.append(Kind.RUN_STARTED, {"case": "c", "playbook": {"id": "p"}, "agent": {"id": "a"}})
        journal.append(kind, {"step": "freeze", "status": "\x1b[2Jpwned" * 10, "steps": {}})
    with pytest.raises(JournalError) as caught:
        load_state(tmp_path)
    assert str(caught.value).startswith(f"journal seq 2: {kind} record: status ")
    assert "is not one of" in str(caught.value) and len(str(caught.value)) < 400
