"""`ir serve` under load on loopback: 1,000 deliveries about 20 agents, 30% of them exact repeats.

Senders repeat themselves (an HA Alertmanager pair, retries): a repeat carries the same body and
is answered 200 `duplicate` with the first one's inbox id. Nothing accepted may be lost, and no
agent may be contained twice: each agent's first alert starts its case, every later one is
journalled into that open case. The p99 time to accept (the 202/200) is reported and bounded.
"""

from __future__ import annotations

import http.client
import json
import random
import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.alerting import SERVE_TOKEN, am_body, bearer, cases, journal, serve_workspace, world
from tests.services import ir_serve

pytestmark = pytest.mark.slow

AGENTS = 20
DELIVERIES = 1000
REPEATS = 300
SENDERS = 16
P99_BOUND_S = 1.0


def deliveries() -> list[bytes]:
    """700 distinct bodies (35 alerts per agent) and 300 exact repeats of some of them, shuffled."""
    rng = random.Random(11)
    unique = [am_body(f"bot-{n % AGENTS:02d}", f"{n:016x}") for n in range(DELIVERIES - REPEATS)]
    bodies = unique + [rng.choice(unique) for _ in range(REPEATS)]
    rng.shuffle(bodies)
    return bodies


def test_a_thousand_deliveries_lose_nothing_and_contain_each_agent_once(tmp_path: Path, record_property: Any) -> None:
    ws = serve_workspace(tmp_path / "ws", agents=AGENTS, breaker=AGENTS)
    bodies = deliveries()
    local = threading.local()
    connections: list[http.client.HTTPConnection] = []

    with ir_serve(ws, tmp_path / "serve", {"IR_SERVE_TOKEN": SERVE_TOKEN}) as served:
        where = urlsplit(served.url)

        def post(body: bytes) -> tuple[float, int, dict[str, Any]]:
            if not hasattr(local, "conn"):  # one keep-alive connection per sender thread
                local.conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
                connections.append(local.conn)
            began = time.perf_counter()
            local.conn.request("POST", "/v1/alerts/alertmanager", body, bearer())
            answer = local.conn.getresponse()
            data = answer.read()
            took = time.perf_counter() - began
            return took, answer.status, json.loads(data)

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            answers = list(pool.map(post, bodies))
        for conn in connections:
            conn.close()
        sent_in = time.monotonic() - started

        statuses = Counter(status for _, status, _ in answers)
        assert statuses == {202: DELIVERIES - REPEATS, 200: REPEATS}
        accepted = {data["inbox_id"] for _, status, data in answers if status == 202}
        repeated = {data["inbox_id"] for _, status, data in answers if status == 200}
        assert len(accepted) == len(set(bodies)) and repeated <= accepted

        def drained() -> bool:
            rows = served.alert_rows()
            return len(rows) == len(accepted) and all(outcome != "new" for _, outcome, _ in rows)

        served.wait_until("every accepted delivery settled", drained, limit=45)
        processed_in = time.monotonic() - started
        rows = served.alert_rows()
        assert served.stop() == 0
    assert "Traceback" not in served.output() and SERVE_TOKEN not in served.output()

    latencies = sorted(took for took, _, _ in answers)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    record_property("accept_p99_s", round(p99, 4))
    record_property("accept_p50_s", round(latencies[len(latencies) // 2], 4))
    record_property("sent_s", round(sent_in, 2))
    record_property("settled_s", round(processed_in, 2))
    print(
        f"\nir serve load: {DELIVERIES} deliveries ({len(accepted)} distinct) sent in {sent_in:.1f} s, "
        f"all settled after {processed_in:.1f} s; accept latency p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms"
    )

    # 0 lost: every inbox id answered 202 (or 200) has its alert row, settled
    with closing(sqlite3.connect(ws / ".ir" / "inbox.sqlite")) as db:
        states = dict(db.execute("SELECT id, state FROM deliveries").fetchall())
    assert set(states) == accepted and set(states.values()) == {"done"}
    assert {int(ref.split(".")[0]) for ref, _, _ in rows} == accepted
    outcomes = Counter(outcome for _, outcome, _ in rows)
    assert outcomes == {"contained": AGENTS, "folded": len(accepted) - AGENTS}, outcomes

    # 0 double containments: one case per agent, its container paused once
    per_agent = Counter(journal(case)[0]["data"]["agent"]["id"] for case in cases(ws))
    assert per_agent == {f"bot-{n:02d}": 1 for n in range(AGENTS)}
    for case in cases(ws):
        records = journal(case)
        pauses = [r for r in records if r["type"] == "step.result" and r["data"]["step"] == "freeze"]
        assert len(pauses) == 1
        assert len([r for r in records if r["type"] == "alert.correlated"]) == len(accepted) // AGENTS - 1
    assert {c["status"] for c in world(ws)["containers"].values()} == {"paused"}
    assert p99 < P99_BOUND_S
