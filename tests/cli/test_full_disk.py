"""`ir run` on a real full disk: one error line, exit 5, and a case that verifies."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import AGENTS, WORLD, ir_cmd, make_workspace
from tests.tmpfs import fill, small_tmpfs


def test_a_snapshot_that_fills_the_disk_ends_the_run_with_one_line(tmp_path: Path) -> None:
    # A 700 kB file in the container: its filesystem export cannot fit on a 512 kB disk.
    world = WORLD.replace("    files:\n", "    files:\n      /data/model.bin: " + "x" * 700_000 + "\n")
    with small_tmpfs(tmp_path / "disk", "512k") as disk:
        # A second agent: the first one's case stays open (the run died on the disk), and one open
        # case per agent and playbook would refuse a second run on it before the disk is touched.
        agents = AGENTS + AGENTS.split("\n", 1)[1].replace("support-bot:", "helper-bot:", 1)
        ws = make_workspace(tmp_path / "ws", agents=agents, world=world, settings=f"cases_dir: {disk}\n")
        run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", cwd=ws)
        assert run.returncode == 5, run.stdout + run.stderr
        (line,) = run.stderr.splitlines()
        (case,) = [p for p in disk.iterdir() if p.is_dir()]
        assert line.startswith(f"ir: error: {case}/evidence/.tmp: no space left on device while writing evidence")
        assert line.endswith("(step snapshot, evidence 'filesystem.tar')")
        assert "Traceback" not in run.stdout + run.stderr

        verified = ir_cmd("verify", str(case))
        assert verified.returncode == 0, verified.stderr
        assert verified.stdout.startswith("ok:")
        # The run died before it could sign its head: verify says so, and nothing else is wrong.
        assert [w for w in verified.stderr.splitlines() if "no signed head" not in w] == []
        assert not list((case / "evidence" / ".tmp").iterdir())

        # Now the disk is full when the journal grows: a note too long for what is left of the
        # journal's last page is cut back whole, never left torn.
        head = verified.stdout.split("head ")[1]
        fill(disk)
        noted = ir_cmd("note", case.name, "n" * 4000, cwd=ws)
        assert noted.returncode == 5, noted.stdout + noted.stderr
        (line,) = noted.stderr.splitlines()
        seq = int(head.split()[1])
        assert line == (
            f"ir: error: {case}/journal.jsonl: no space left on device while appending seq {seq + 1} (note); "
            f"the journal is whole up to seq {seq}"
        )
        again = ir_cmd("verify", str(case))
        assert again.returncode == 0 and again.stdout.split("head ")[1] == head, again.stdout + again.stderr
        assert "torn" not in again.stderr

        # A new run on the full disk fails before its journal exists, and says where.
        again_run = ir_cmd("run", "agent-compromise", "--agent", "helper-bot", cwd=ws)
        assert again_run.returncode == 5, again_run.stdout + again_run.stderr
        (line,) = again_run.stderr.splitlines()
        assert line.startswith("ir: error: ") and line.endswith(
            "/playbook.yaml: no space left on device while creating the case"
        )
