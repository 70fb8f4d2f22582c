"""`ir tabletop report EXERCISE`: the after-action report of an exercise the real engine played, in HSEEP
order, with its timeline picture and an improvement plan whose owners and dates a team edits."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import ir_cmd, make_workspace
from tests.exercises import EXERCISE_ID, Exercise

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """The team's workspace, where `ir tabletop run` would have created exercises/<id>/."""
    return make_workspace(tmp_path / "ws")


def stop_before_snapshot(ws: Path, *, hostile: str = "", end: bool = True) -> Exercise:
    """The alert at T+0, the backdoor at T+1:30; at T+2:00 bob skips the snapshot and stops the container
    (skipping the other destructive steps too, so the stop is the first one)."""
    ex = Exercise(ws).start()
    ex.deliver_alert()
    ex.advance(90)
    ex.deliver_backdoor()
    ex.advance(30)
    skips = [a for step in ("snapshot", "isolate", "console", "secrets", "minted-console") for a in ("--skip", step)]
    ex.ir("resume", ex.case, "--yes", "--as", "bob", *skips, "--reason", "no time",
          "--override", f"stop=it is exfiltrating{hostile}")  # fmt: skip
    if hostile:
        ex.ir("note", ex.case, hostile, "--as", "bob")
    ex.advance(60)
    ex.ir("decide", ex.case, "--decision", "keep-disabled", "--by", "demo-responder", "--reason", "cause unknown")
    if end:
        ex.end()
    return ex


def report(ws: Path, *args: str, code: int = 0) -> str:
    done = ir_cmd("tabletop", "report", *args, cwd=ws)
    assert done.returncode == code, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_report_is_written_into_the_exercise_and_says_how_it_went(ws: Path) -> None:
    ex = stop_before_snapshot(ws)
    out = report(ws, "EX-test")  # a unique prefix of the exercise id, from the workspace
    for name in ("report.md", "report.json", "timeline.svg", "improvement.yaml"):
        assert (ex.dir / name).is_file(), name
    assert f"after-action report of {EXERCISE_ID} (ended)" in out
    assert "  O2 U  Preserve evidence before anything destructive" in out
    assert "time to acknowledge 2m 00s  time to contain 2m 00s  (3 passed, 1 failed, 1 pending)" in out


def test_the_markdown_follows_the_hseep_order(ws: Path) -> None:
    ex = stop_before_snapshot(ws)
    report(ws, str(ex.dir))  # a path works too
    md = (ex.dir / "report.md").read_text()
    headings = [
        "## 1. Exercise overview",
        "### Objectives",
        "### Scenario",
        "## 2. Executive summary",
        "### Strengths",
        "### Areas for improvement",
        "## 3. Analysis of objectives",
        "## 4. Timeline: injects and responder actions",
        "## 5. Improvement plan",
        "## 6. Participants",
    ]
    assert [h for h in re.findall(r"^#{2,3} .*$", md, re.M) if h in headings] == headings
    assert "| participants | alice (Incident commander), bob (Responder) |" in md
    assert "| point of contact | fran (facilitator) |" in md
    assert "### O2 Preserve evidence before anything destructive — **U** (unable to be performed)" in md
    assert re.search(r"\| E3 .*\| ✗ \*\*failed\*\* \| stop \(container.stop\) started at T\+2:00", md)
    assert "| E5 The customers affected are told | manual (facilitator) | … pending |" in md


def test_the_json_carries_ratings_evidence_and_the_timeline(ws: Path) -> None:
    ex = stop_before_snapshot(ws)
    data = json.loads(report(ws, EXERCISE_ID, "--json"))
    assert data == json.loads((ex.dir / "report.json").read_text())
    assert data["schema"] == "ir/aar/v1"
    assert data["summary"]["ratings"] == {"O1": "P", "O2": "U", "O3": "S"}
    assert (data["times"]["mtta_s"], data["times"]["mttc_s"]) == (120.0, 120.0)
    for objective in data["objectives"]:
        for e in objective["expectations"]:
            for ev in e["evidence"]:  # every piece of evidence names a real record or the world's state
                lines = (ex.dir / ev["file"]).read_text().splitlines()
                if ev["seq"] is not None:
                    assert json.loads(lines[ev["seq"] - 1])["seq"] == ev["seq"]
    rows = data["timeline"]
    assert [r["at_s"] for r in rows] == sorted(r["at_s"] for r in rows)
    injects = [r["what"] for r in rows if r["lane"] == "inject"]
    assert injects == ["I1 Egress alert fires (alert)", "I2 The attacker creates a backdoor user with a key (world)"]
    override = next(r for r in rows if "overridden" in r["what"])
    assert (override["who"], override["failed"], override["at"]) == ("bob", True, "T+2:00")


def test_the_improvement_plan_keeps_what_the_team_edits(ws: Path) -> None:
    ex = stop_before_snapshot(ws)
    report(ws, EXERCISE_ID)
    plan = json.loads((ex.dir / "report.json").read_text())["improvement_plan"]
    assert [(r["id"], r["element"], r["owner"], r["start"], r["due"]) for r in plan] == [
        ("E3", "training", "Incident commander", plan[0]["start"], plan[0]["due"]),
        ("E5", "organization", "Incident commander", plan[0]["start"], plan[0]["due"]),
    ]
    from datetime import date

    assert (date.fromisoformat(plan[0]["due"]) - date.fromisoformat(plan[0]["start"])).days == 30
    text = (ex.dir / "improvement.yaml").read_text()
    text = text.replace("owner: Incident commander", "owner: carol (forensics lead)", 1)
    (ex.dir / "improvement.yaml").write_text(text.replace(f"due: '{plan[0]['due']}'", "due: '2027-01-15'", 1))
    report(ws, EXERCISE_ID)
    md = (ex.dir / "report.md").read_text()
    assert re.search(r"\| Forensics \| E3: .* \| carol \(forensics lead\) \| \S+ \| 2027-01-15 \|", md)
    assert "carol (forensics lead)" in (ex.dir / "improvement.yaml").read_text()  # kept for the next one too


def test_a_bad_improvement_plan_is_one_line_naming_where(ws: Path) -> None:
    ex = stop_before_snapshot(ws)
    report(ws, EXERCISE_ID)
    text = (ex.dir / "improvement.yaml").read_text().replace("element: training", "element: luck")
    (ex.dir / "improvement.yaml").write_text(text)
    err = report(ws, EXERCISE_ID, code=2)
    assert re.fullmatch(r"ir: error: .*improvement\.yaml:\d+:\d+: rows\.E3\.element: .*\n", err)


def _svg(ex: Exercise) -> ET.Element:
    return ET.fromstring((ex.dir / "timeline.svg").read_text())


def test_the_picture_puts_injects_above_the_axis_responders_below_and_failures_in_red(ws: Path) -> None:
    ex = stop_before_snapshot(ws)
    report(ws, EXERCISE_ID)
    root = _svg(ex)
    axis_y = next(float(line.get("y1", 0)) for line in root.iter(f"{SVG}line") if line.get("stroke-width") == "1.5")
    injects = [p for p in root.iter(f"{SVG}path") if (p.findtext(f"{SVG}title") or "").startswith("T+")]
    assert [p.findtext(f"{SVG}title") for p in injects] == [
        "T+0:00 I1 Egress alert fires (alert)",
        "T+1:30 I2 The attacker creates a backdoor user with a key (world)",
    ]
    assert all(max(float(n) for n in re.findall(r",([\d.]+)", p.get("d", ""))) <= axis_y for p in injects)
    actions = [c for c in root.iter(f"{SVG}circle") if c.find(f"{SVG}title") is not None]
    assert actions and all(float(c.get("cy", 0)) > axis_y for c in actions)
    red = [c for c in actions if c.get("fill") == "#c0392b"]
    assert len(red) == 1 and "stop: evidence requirement overridden" in (red[0].findtext(f"{SVG}title") or "")
    marks = {t.text: t.get("fill") for t in root.iter(f"{SVG}text") if t.text and t.text[:2] in ("E1", "E3")}
    assert marks["E3 ✗"] == "#c0392b" and marks["E1 ✓"] != "#c0392b"
    labels = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any(t.startswith("time to acknowledge 2m 00s") for t in labels)
    assert any(t.startswith("time to contain 2m 00s") for t in labels)


def test_text_from_the_journals_is_neutralised_in_every_file(ws: Path) -> None:
    hostile = "saw \x1b]8;;http://evil\x07link\x1b[31m <script>alert(1)</script> | `x` ![i](http://evil/p.png) \u202e"
    ex = stop_before_snapshot(ws, hostile=hostile)  # in a note, and in the override's reason E3 quotes
    report(ws, EXERCISE_ID)
    svg = (ex.dir / "timeline.svg").read_text()
    md = (ex.dir / "report.md").read_text()
    plan = (ex.dir / "improvement.yaml").read_text()
    assert "saw \\x1b]8;;http://evil" in plan  # the issue quotes it, inert
    for text in (svg, md, (ex.dir / "report.json").read_text(), plan):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert "href" not in svg and "http://evil" in svg  # as inert text only
    _svg(ex)  # still well-formed XML
    note = next(line for line in md.splitlines() if "note: saw" in line)
    assert "<script>" not in note and "\\<script\\>" in note and "!\\[i\\]" in note


def test_every_value_stays_on_its_line_and_scenario_markup_is_inert(ws: Path) -> None:
    """A folded `summary:` ends in a newline and a note may hold several: the scope cell and the note's
    row read as text on one line (no literal `\\n`, no forged row); the narrative's raw HTML is text."""
    ex = Exercise(ws)
    scenario = (ex.dir / "scenario.yaml").read_text()
    scenario = scenario.replace(
        "summary: A crafted email makes the support bot send data out in an image URL, then mint itself a key.",
        "summary: >\n  A crafted email makes the support bot\n  send data out.\n",
    ).replace("narrative: |\n", "narrative: |\n  <img src=x onerror=alert(1)> **Monday.**\n")
    (ex.dir / "scenario.yaml").write_text(scenario)
    ex.start()
    ex.deliver_alert()
    ex.advance(60)
    ex.ir("resume", ex.case, "--yes", "--as", "bob")
    ex.ir("note", ex.case, "first line\n| forged | row |\n# not a heading", "--as", "bob")
    ex.end()
    report(ws, EXERCISE_ID)
    md = (ex.dir / "report.md").read_text()
    assert "\\n" not in md and "\\n" not in (ex.dir / "timeline.svg").read_text()
    assert "| scope | A crafted email makes the support bot send data out. Agents: support-bot. |" in md
    (note,) = [line for line in md.splitlines() if "note: first line" in line]
    assert "note: first line \\| forged \\| row \\| # not a heading |" in note
    table = md.split("## 4. Timeline", 1)[1].split("\n\n")[2]  # the timeline table, header to its end
    assert {len(re.findall(r"(?<!\\)\|", line)) for line in table.splitlines()} == {6}  # five cells a row
    assert "<img" not in md and "> &lt;img src=x onerror=alert(1)&gt; **Monday.**" in md


def test_a_report_of_a_running_exercise_says_so(ws: Path) -> None:
    ex = stop_before_snapshot(ws, end=False)
    out = report(ws, EXERCISE_ID)
    assert f"{EXERCISE_ID} (in progress)" in out
    md = (ex.dir / "report.md").read_text()
    assert "**in progress**" in md and "(provisional: the exercise is in progress)" in md
    ex.close()


def test_an_edited_exercise_journal_is_refused(ws: Path) -> None:
    ex = stop_before_snapshot(ws)
    journal = ex.dir / "exercise.jsonl"
    journal.write_text(journal.read_text().replace('"I2"', '"I9"', 1))
    err = report(ws, EXERCISE_ID, code=1)
    assert re.fullmatch(r"ir: error: .*exercise\.jsonl:\d+: seq \d+ \(inject\.delivered\) was altered.*\n", err)
    assert not (ex.dir / "report.md").exists()


def test_an_edited_case_journal_is_refused(ws: Path) -> None:
    ex = stop_before_snapshot(ws)
    case = ex.ws / "cases" / ex.case / "journal.jsonl"
    lines = case.read_text().splitlines(keepends=True)
    case.write_text("".join(line for line in lines if '"override"' not in line))  # hide the override
    err = report(ws, EXERCISE_ID, code=1)
    assert f"cases/{ex.case}/journal.jsonl" in err and "removed or reordered" in err


@pytest.mark.parametrize("ref", ["EX-nope", "exercises"])
def test_what_is_not_an_exercise_is_bad_input(ws: Path, ref: str) -> None:
    Exercise(ws).start().close()
    err = report(ws, ref, code=2)
    assert err.startswith(f"ir: error: {ref}: no such exercise")


def test_what_is_done_after_the_end_does_not_count_and_a_changed_world_is_flagged(ws: Path) -> None:
    from ir.backends.world_store import WorldStore

    ex = Exercise(ws).start()
    ex.deliver_alert()
    ex.advance(120)
    ex.ir("resume", ex.case, "--yes", "--as", "bob")
    ex.end()
    ex.ir("decide", ex.case, "--decision", "keep-disabled", "--by", "demo-responder", "--reason", "after the debrief")
    with WorldStore(ex.ws / ".ir" / "world.json").open(write=True) as world:
        world["containers"]["support-bot"]["status"] = "running"  # someone restarted it after the exercise
    report(ws, EXERCISE_ID)
    data = json.loads((ex.dir / "report.json").read_text())
    found = {e["expectation"]: e for o in data["objectives"] for e in o["expectations"]}
    assert (found["E4"]["status"], found["E4"]["why"]) == (
        "failed",
        "a keep-disabled decision for support-bot was never recorded",
    )
    assert found["E2"]["status"] == "passed"  # frozen at the end: the restart afterwards does not count
    assert "frozen(support-bot): container support-bot is exited" in found["E2"]["why"]  # stop_container: true
    md = (ex.dir / "report.md").read_text()
    assert "> **Note:** the sandbox's simulated world changed after the exercise ended" in md
    assert f"do not count: {ex.case} (+" in md
