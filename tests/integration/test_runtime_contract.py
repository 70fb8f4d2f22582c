"""One contract, two runtimes: the simulated world must behave like Docker Engine does."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ir.backends.simulated import SimulatedWorld
from ir.core.errors import BackendError, NotFoundError
from ir.core.ports import ContainerRuntime
from tests.conftest import make_workspace


@pytest.fixture(params=["simulated", pytest.param("docker", marks=pytest.mark.docker)])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[ContainerRuntime, str]]:
    if request.param == "simulated":
        ws = make_workspace(tmp_path / "ws")
        yield SimulatedWorld(ws / ".ir" / "world.json", ws / "world.yaml"), "support-bot"
        return
    from ir.backends.docker_engine import DockerEngine

    dockerd = request.getfixturevalue("dockerd")
    agent: dict[str, Any] = request.getfixturevalue("agent_container")
    engine = DockerEngine(dockerd)
    yield engine, agent["name"]
    engine.close()


def test_runtime_satisfies_the_protocol(runtime: tuple[ContainerRuntime, str]) -> None:
    rt, _ = runtime
    assert isinstance(rt, ContainerRuntime)


def test_unknown_container_is_not_found(runtime: tuple[ContainerRuntime, str]) -> None:
    rt, _ = runtime
    with pytest.raises(NotFoundError, match="no-such-container"):
        rt.inspect("no-such-container")


def test_pause_unpause_and_conflicts(runtime: tuple[ContainerRuntime, str]) -> None:
    rt, name = runtime
    assert rt.inspect(name).status == "running"
    rt.pause(name)
    assert rt.inspect(name).status == "paused"
    with pytest.raises(BackendError):
        rt.pause(name)
    rt.unpause(name)
    assert rt.inspect(name).status == "running"
    with pytest.raises(BackendError):
        rt.unpause(name)


def test_disconnect_and_reconnect_every_network(runtime: tuple[ContainerRuntime, str]) -> None:
    rt, name = runtime
    rt.pause(name)  # network changes must work on a frozen container
    before = rt.inspect(name).networks
    assert len(before) == 2
    for net in before:
        rt.disconnect(name, net.name)
    assert rt.inspect(name).networks == ()
    with pytest.raises(BackendError):
        rt.disconnect(name, before[0].name)
    for net in before:
        rt.connect(name, net)
    assert rt.inspect(name).network_names == tuple(sorted(n.name for n in before))


def test_captures_are_real_streams(runtime: tuple[ContainerRuntime, str]) -> None:
    rt, name = runtime
    rt.pause(name)
    logs = b"".join(rt.logs(name))
    first = logs.splitlines()[0].decode()
    assert first[:4].isdigit() and first[10] == "T" and "Z " in first[:40], first
    assert '"call_id":"c' in logs.decode()
    with tarfile.open(fileobj=io.BytesIO(b"".join(rt.export(name)))) as export:
        assert export.getnames()
    assert rt.top(name)["Processes"]
    image_id = rt.commit(name, "ir-evidence", "contract")
    assert rt.find_image("ir-evidence:contract") == image_id
    assert rt.find_image("ir-evidence:absent") is None
    with tarfile.open(fileobj=io.BytesIO(b"".join(rt.save_image(image_id)))) as saved:
        assert "manifest.json" in saved.getnames()
    assert isinstance(rt.checkpoint_support(), str)


def test_stop_ends_a_paused_container(runtime: tuple[ContainerRuntime, str]) -> None:
    rt, name = runtime
    rt.pause(name)
    rt.stop(name, 2)
    assert rt.inspect(name).status == "exited"
