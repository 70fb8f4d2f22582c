"""`ir timeline` on a terminal shows, while it reads, each source's events and rate and a total,
then erases them: the screen afterwards holds exactly the usual output. In pipes and with `--json`
nothing extra is written."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ir_cmd
from tests.terminal import Screen, ir_in_terminal
from tests.unit.timeline_golden import make


def test_sources_read_show_on_a_terminal_and_are_gone_after(tmp_path: Path) -> None:
    # long enough to show (nothing is drawn in the first 0.3 s): 60,000 events took ~0.5 s of
    # reading once parsing became faster, and a fast machine read them before the first draw
    folder, _agent = make(tmp_path / "logs", 200_000, False)
    out = tmp_path / "events.jsonl"
    code, written = ir_in_terminal("timeline", str(folder), "--format", "jsonl", "--out", str(out), cwd=tmp_path)
    assert code == 0, written
    shown = re.findall(r"reading \S+  ([\d,.]+k?) events  [\d,.]+k? events/s", written)
    assert shown, written
    assert re.search(r"total  [\d,.]+k? events  [\d,.]+k? events/s  \(\d/\d done\)", written), written
    screen = Screen().feed(written).text
    assert "events/s" not in screen and not [line for line in screen.splitlines() if line.startswith("reading ")]
    assert screen.splitlines()[-1] == f"200000 events written to {out}"


def test_nothing_extra_in_pipes_or_with_json(tmp_path: Path) -> None:
    folder, _agent = make(tmp_path / "logs", 60_000, False)
    out = tmp_path / "events.jsonl"
    piped = ir_cmd("timeline", str(folder), "--format", "jsonl", "--out", str(out), cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == "" and "\x1b" not in piped.stdout and "\r" not in piped.stdout
    code, written = ir_in_terminal("timeline", str(folder), "--out", str(out), "--json", cwd=tmp_path)
    assert code == 0, written
    assert "\x1b" not in written and "events/s" not in written, written[:300]
