"""`ir report` on a demo case (simulated world): every section against the journal, no secret, inert html."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from ir.core.case import load_state
from ir.core.journal import Journal, read
from ir.core.records import Kind
from tests.cli.test_hostile_text import RAW_CONTROL, canaries, tool_log_lines
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd

AS_DEMO = {"IR_USER": "demo-responder"}  # the demo workspace signs heads and decisions with its demo key
HOSTILE = "<script>alert(1)</script> \x1b]52;c;ZXZpbA==\x07 \u202etxt.exe"
SECRETS = [*canaries("rep"), *canaries("reps"), "canary-rep-result-4", "canary-rep-hostile-5"]
DEMO_SECRETS = ["demo-secret-not-real", "sk-demo-not-a-real-key-0000000000000000"]


def plant(ws: Path) -> None:
    """Tool calls with secret arguments, and a tagged one (a credentials read) with hostile text."""
    log = ws / "demo" / "logs" / "support-bot.docker.log"
    hostile = {
        "ts": "2026-11-20T03:14:00.000Z",
        "agent": "support-bot",
        "session": "s-1",
        "tool": "fs.read",
        "call_id": "h1",
        "arguments": {"path": f"/home/agent/.aws/credentials {HOSTILE}", "password": "canary-rep-hostile-5"},
        "success": True,
    }
    lines = [f"2026-11-20T03:12:05.{i}00000Z {line}" for i, line in enumerate(tool_log_lines("rep"), start=1)]
    lines.append(f"2026-11-20T03:14:00.000000Z {json.dumps(hostile)}")
    log.write_text(log.read_text() + "\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A contained demo case with a note and a signed decision, reported in the three formats."""
    ws = demo_workspace(tmp_path_factory.mktemp("report"))
    plant(ws)
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws, env=AS_DEMO)
    assert run.returncode == 0, run.stdout + run.stderr
    case = Path(json.loads(run.stdout.splitlines()[-1])["case"])
    ir_cmd("note", case.name, f"saw the paste upload {HOSTILE}", "--step", "isolate", cwd=ws, env=AS_DEMO, check=True)
    ir_cmd(
        "decide",
        case.name,
        "--decision",
        "keep-disabled",
        "--by",
        "demo-responder",
        "--reason",
        "injection path not closed yet",
        cwd=ws,
        env=AS_DEMO,
        check=True,
    )
    before = read(case / "journal.jsonl").records
    outputs, heads = {}, {}
    for fmt in ("md", "html", "json"):
        heads[fmt] = read(case / "journal.jsonl").records[-2:]  # (signed record, its checkpoint) when written
        done = ir_cmd("report", case.name, "--format", fmt, cwd=ws, env=AS_DEMO)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs[fmt] = done.stdout
    texts = {fmt: (case / f"report.{fmt}").read_text(encoding="utf-8") for fmt in ("md", "html", "json")}
    return {"ws": ws, "case": case, "before": before, "heads": heads, "texts": texts, "stdout": outputs}


def assert_matches_journal(case: Path, texts: dict[str, str], heads: dict[str, list[Any]], signer: str) -> None:
    """Every section of the three reports against the case's journal (read through the case-state reader)."""
    state = load_state(case)
    records = read(case / "journal.jsonl").records
    data = json.loads(texts["json"])
    steps = {s["id"]: s for s in data["done"]["steps"]}
    from ir.core.case import pinned_playbook

    assert list(steps) == [s.id for s in pinned_playbook(case).playbook.steps]
    md_rows = {line.split(" — ")[0].strip("| "): line for line in texts["md"].splitlines() if " — " in line}
    for sid, st in state.steps.items():
        assert steps[sid]["status"] == str(st.status)
        assert steps[sid]["approved_by"] == st.approved_by
        assert f"| {st.status} |" in md_rows[sid]
        assert f"{sid} — " in texts["html"]
    assert state.approvals
    for sid, who in state.approvals.items():
        assert steps[sid]["approved_by"] == who and f"| {who} |" in md_rows[sid]
    for sid, st in state.steps.items():
        if st.skipped is not None:
            assert steps[sid]["skipped"] == {"reason": st.skipped.reason, "by": st.skipped.by}

    assert [e["sha256"] for e in data["evidence"]] == [e.sha256 for e in state.evidence]
    for e in state.evidence:
        assert e.sha256 in texts["md"] and e.sha256 in texts["html"]
        assert f"| {e.size} | `{e.sha256}` | {'sensitive' if e.sensitive else ''} |" in texts["md"]

    assert state.follow_ups and [(f["what"], f["owner"]) for f in data["live"]["follow_ups"]] == [
        (f.what, f.owner) for f in state.follow_ups
    ]
    for f in state.follow_ups:
        assert f"follow-up: {f.what} — owner **{f.owner}**" in texts["md"] and f.owner in texts["html"]
    assert data["live"]["assessed"] is True and data["live"]["still_live"] == [s.model_dump() for s in state.still_live]

    (decision,) = state.decisions
    (reported_decision,) = data["decisions"]
    assert (reported_decision["decision"], reported_decision["seq"], reported_decision["hash"]) == (
        decision.decision,
        decision.seq,
        decision.hash,
    )
    (signed_by,) = reported_decision["signers"]
    assert signed_by == {
        "principal": signer,
        "role": decision.signatures[0]["role"],
        "key": decision.signatures[0]["key"],
        "verified": True,
    }
    assert f"signed by {signer} (responder) key `{signed_by['key']}`: verified" in texts["md"]
    assert signed_by["key"].startswith("SHA256:") and signed_by["key"] in texts["html"]

    for fmt in ("md", "html", "json"):  # each report names the head it was written at, and the last signed one
        signed, head = heads[fmt]
        assert head.type == Kind.CHECKPOINT and head.data["signed"] == {"seq": signed.seq, "hash": signed.hash}
        assert head.hash in texts[fmt] and signed.hash in texts[fmt]
    signed, head = heads["json"]
    assert data["journal"]["head"] == {"seq": head.seq, "hash": head.hash}
    assert data["journal"]["signed_head"]["seq"] == signed.seq and data["journal"]["signed_head"]["by"] == signer
    assert f"- head: seq {heads['md'][1].seq} sha256 `{heads['md'][1].hash}`" in texts["md"]

    started = next(r for r in records if r.type == Kind.RUN_STARTED)
    freeze = next(r for r in records if r.type == Kind.STEP_STARTED and r.data["step"] == "freeze")
    assert data["times"]["opened"] == started.ts and data["times"]["first_action"] == freeze.ts
    assert data["times"]["first_alert"] is None and "| first alert | — |" in texts["md"]
    assert 0 <= data["times"]["time_to_acknowledge_s"] <= data["times"]["time_to_contain_s"]

    happened, timeline = data["happened"], state.step("timeline").outputs
    assert happened["first_suspicious"]["ts"] == timeline["first_suspicious"]["ts"]
    assert happened["timeline_file"]["sha256"] == timeline["sha256"]
    assert happened["tagged_events"] == sum(1 for e in happened["excerpt"]) and happened["excerpt"][0]["tags"]
    assert [n["text"] for n in data["done"]["notes"]] == [n.text for n in state.notes]


def test_every_section_matches_the_journal(reported: dict[str, Any]) -> None:
    texts = reported["texts"]
    assert_matches_journal(reported["case"], texts, reported["heads"], "demo-responder")
    data = json.loads(texts["json"])
    assert data["journal"]["signed_head"]["demo"] is True and "(a demo key)" in texts["md"]
    assert {e["name"] for e in data["evidence"] if e["sensitive"]} >= {"logs.txt", "filesystem.tar"}
    assert data["happened"]["tagged_events"] >= 4
    assert "saw the paste upload" in texts["md"] and "(step isolate)" in texts["md"]
    assert (
        "| stop — Stop the container (only when asked) | container.stop | skipped | — | skipped by its `when:` |"
        in (texts["md"])
    )


def test_no_secret_and_no_raw_control_character_in_any_report(reported: dict[str, Any]) -> None:
    texts = reported["texts"]
    for fmt, text in texts.items():
        for secret in SECRETS + DEMO_SECRETS:
            assert secret not in text, f"{secret} leaked into report.{fmt}"
        assert not RAW_CONTROL.search(text), f"raw control character in report.{fmt}"
    assert "fs.read" in texts["md"] and "/home/agent/.aws/credentials" in texts["md"]  # the planted event is there
    assert "\\<script\\>" in texts["md"] and "<script>" not in texts["md"]


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs


def assert_inert_html(html: str) -> None:
    """One self-contained file: no script, no external reference, parses, and the timeline drawn as SVG."""
    assert "<script" not in html.lower()
    parsed = _Html()
    parsed.feed(html)
    parsed.close()
    assert "svg" in parsed.tags and "rect" in parsed.tags and "circle" in parsed.tags
    assert set(parsed.tags) <= {
        *("html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "ul", "li", "b", "br", "span"),
        *("table", "thead", "tbody", "tr", "th", "td", "code", "figure", "figcaption"),
        *("svg", "rect", "circle", "line", "text"),
    }
    assert not {name for name, _ in parsed.attrs} & {"href", "src", "xlink:href", "action", "formaction", "srcset"}
    assert not any(name.startswith("on") for name, _ in parsed.attrs)
    assert "url(" not in html and "@import" not in html
    assert "events per " in html  # per minute, or wider bins for a long incident


def test_the_html_is_one_inert_self_contained_file_with_the_timeline_drawn(reported: dict[str, Any]) -> None:
    html = reported["texts"]["html"]
    assert_inert_html(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the planted markup, shown as text
    assert "events per minute" in html


def test_the_report_is_journalled_signed_and_verifies(reported: dict[str, Any]) -> None:
    case, ws = reported["case"], reported["ws"]
    records = read(case / "journal.jsonl").records
    derived = {r.data["path"]: r for r in records if r.type == Kind.DERIVED_ADDED}
    for fmt in ("md", "html", "json"):
        rec = derived[f"report.{fmt}"]
        assert rec.data["size"] == (case / f"report.{fmt}").stat().st_size
        assert f"journal seq {rec.seq}" in reported["stdout"][fmt]
    assert records[-1].type == Kind.CHECKPOINT and records[-1].data["reason"] == "report"
    assert "signed by demo-responder" in reported["stdout"]["json"]
    verified = ir_cmd("verify", case.name, "--strict", cwd=ws)
    assert verified.returncode == 0, verified.stderr
    assert "report" not in verified.stderr  # no unrecorded-file warning


def test_a_case_that_does_not_verify_gets_no_report(reported: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(reported["ws"], ws)
    case = ws / "cases" / reported["case"].name
    (case / "report.md").unlink()
    blob = next(p for p in (case / "evidence").rglob("*") if p.is_file())
    os.chmod(blob, 0o644)
    blob.write_bytes(blob.read_bytes() + b"x")
    refused = ir_cmd("report", case.name, cwd=ws)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("ir: error: ")
    assert "does not verify" in refused.stderr and blob.name in refused.stderr
    assert not (case / "report.md").exists()


def test_a_case_held_by_a_live_run_is_refused_and_out_elsewhere_is_not_journalled(
    reported: dict[str, Any], tmp_path: Path
) -> None:
    case, ws = reported["case"], reported["ws"]
    length = len(read(case / "journal.jsonl").records)
    with Journal(case).open():
        held = ir_cmd("report", case.name, cwd=ws)
    assert held.returncode == 4 and held.stderr.count("\n") == 1 and "a run holds the case" in held.stderr
    out = tmp_path / "elsewhere.json"
    done = ir_cmd("report", case.name, "--format", "json", "--out", str(out), cwd=ws)
    assert done.returncode == 0, done.stderr
    assert "not recorded in its journal" in done.stdout
    assert json.loads(out.read_text())["case"] == case.name
    printed = ir_cmd("report", case.name, "--format", "json", "--out", "-", cwd=ws)
    assert printed.returncode == 0 and json.loads(printed.stdout) == json.loads(out.read_text())
    assert len(read(case / "journal.jsonl").records) == length


def test_a_report_never_overwrites_another_case_file_and_replaces_an_edited_one(
    reported: dict[str, Any], tmp_path: Path
) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(reported["ws"], ws)
    case = ws / "cases" / reported["case"].name
    journal = (case / "journal.jsonl").read_bytes()
    for victim in ("journal.jsonl", "timeline.jsonl", "playbook.yaml"):
        refused = ir_cmd("report", case.name, "--out", str(case / victim), cwd=ws)
        assert refused.returncode == 2 and "a case file that is not a report" in refused.stderr, refused.stderr
    assert (case / "journal.jsonl").read_bytes() == journal
    inside_store = ir_cmd("report", case.name, "--out", str(case / "evidence" / "r.md"), cwd=ws)
    assert inside_store.returncode == 2 and not (case / "evidence" / "r.md").exists()

    (case / "report.md").write_text("edited by hand\n")  # the case no longer verifies: a recorded file changed
    assert ir_cmd("verify", case.name, cwd=ws).returncode == 1
    again = ir_cmd("report", case.name, cwd=ws)
    assert again.returncode == 0, again.stderr  # a report is derived from the journal: written anew, re-recorded
    assert "## What was done" in (case / "report.md").read_text()
    assert ir_cmd("verify", case.name, cwd=ws).returncode == 0

    outside = tmp_path / "secret-target"
    outside.write_text("keep me\n")
    (case / "report.html").unlink()
    (case / "report.html").symlink_to(outside)
    replaced = ir_cmd("report", case.name, "--format", "html", cwd=ws)
    assert replaced.returncode == 0, replaced.stderr
    assert outside.read_text() == "keep me\n"  # the planted link was replaced, never followed
    assert not (case / "report.html").is_symlink() and "<svg" in (case / "report.html").read_text()


def test_a_declined_approval_and_a_persons_skip_are_reported_with_who_and_why(tmp_path: Path) -> None:
    from ir.report.content import DECLINED, build_report
    from ir.report.markdown import render_markdown

    ws = demo_workspace(tmp_path)
    waiting = ir_cmd("run", "agent-compromise", "--agent", "support-bot", cwd=ws)
    assert waiting.returncode == 4  # waits at the console gate
    (case,) = (ws / "cases").iterdir()
    with Journal(case).open() as journal:
        journal.append(DECLINED, {"step": "console", "by": "bob", "reason": "console used by the on-call right now"})
    skipped = ir_cmd("resume", case.name, "--skip", "console", "--reason", "handled by IT", "--as", "carol", cwd=ws)
    assert skipped.returncode == 4, skipped.stderr  # on to the next gate
    data = build_report(case)
    (declined,) = data["done"]["declined"]
    assert (declined["step"], declined["by"], declined["reason"]) == (
        "console",
        "bob",
        "console used by the on-call right now",
    )
    console = next(s for s in data["done"]["steps"] if s["id"] == "console")
    assert console["status"] == "skipped" and console["skipped"] == {"reason": "handled by IT", "by": "carol"}
    md = render_markdown(data)
    assert "step console declined by bob: console used by the on-call right now" in md
    assert "| skipped | — | skipped by carol: handled by IT |" in md
    assert data["status"] == "awaiting_approval" and data["live"]["assessed"] is False
    assert "what is still live was not assessed (the run did not reach its end)" in md
