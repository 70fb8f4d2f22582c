"""Real components for tests and benchmarks: a private Docker Engine, moto_server, a busybox image.

The daemon listens on a unix socket in a temp dir with `--iptables=false --bridge=none`: it
touches no host networking and no other daemon's state. moto_server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class Unavailable(RuntimeError):
    """The component cannot be had on this machine; the message says why."""


def _pings(sock: Path) -> bool:
    """True once the daemon answers GET /_ping on its socket."""
    if not sock.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(5)
        try:
            conn.connect(str(sock))
            conn.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b" 200 " in conn.recv(200)
        except OSError:
            return False


@contextmanager
def private_dockerd() -> Iterator[str]:
    """Run a private dockerd for the duration of the block; yields its DOCKER_HOST URL."""
    binary = shutil.which("dockerd")
    if binary is None:
        raise Unavailable("dockerd not installed (apt-get install docker.io)")
    if os.geteuid() != 0:
        raise Unavailable("a private dockerd needs root")
    root = Path(tempfile.mkdtemp(prefix="irdk-", dir="/tmp"))
    sock = root / "d.sock"
    with (root / "dockerd.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                binary,
                "--host",
                f"unix://{sock}",
                "--data-root",
                str(root / "data"),
                "--exec-root",
                str(root / "x"),
                "--pidfile",
                str(root / "d.pid"),
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--containerd-namespace",
                "irtest",
                "--containerd-plugins-namespace",
                "irtest-plugins",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not _pings(sock):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    tail = (root / "dockerd.log").read_text(errors="replace")[-2000:]
                    raise Unavailable(f"private dockerd did not start: {tail}")
                time.sleep(0.2)
            yield f"unix://{sock}"
        finally:
            _remove_everything(f"unix://{sock}")
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            subprocess.run(["umount", "-R", str(root / "data")], capture_output=True, check=False)
            shutil.rmtree(root, ignore_errors=True)


@contextmanager
def moto_server() -> Iterator[str]:
    """moto_server on 127.0.0.1 for the duration of the block; yields its endpoint URL."""
    import sys
    import urllib.request

    exe = Path(sys.executable).parent / "moto_server"
    if not exe.exists():
        raise Unavailable("moto_server not installed in this environment (pip install 'moto[server]')")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise Unavailable("moto_server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _remove_everything(host: str) -> None:
    """Remove every container and network, so no bridge interface outlives the daemon."""
    import docker

    try:
        with docker.APIClient(base_url=host, version="auto", timeout=60) as api:
            for container in api.containers(all=True):
                api.remove_container(container["Id"], force=True)
            for network in api.networks():
                if network["Name"] not in ("none", "host", "bridge"):
                    api.remove_network(network["Id"])
    except Exception:  # best effort: the daemon may already be gone
        pass


def static_busybox() -> str:
    """Path of a statically linked busybox (Debian's busybox-static)."""
    found = shutil.which("busybox")
    if found is None:
        raise Unavailable("busybox not installed (apt-get install busybox-static)")
    with open(found, "rb") as fh:
        head = fh.read(8192)
    if b"/lib64/ld-linux" in head or b"/lib/ld-linux" in head:
        raise Unavailable(f"{found} is dynamically linked; install busybox-static")
    return found


def busybox_rootfs(extra: dict[str, bytes] | None = None) -> bytes:
    """A tar of a root filesystem holding busybox-static, its applet links, and `extra` files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for folder in ("bin", "tmp", "app", "etc", "proc", "sys", "dev"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if folder == "tmp" else 0o755
            tar.addfile(info)
        tar.add(static_busybox(), arcname="bin/busybox")
        for applet in ("sh", "echo", "sleep", "cat", "ls", "dd", "head", "date", "seq"):
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        for path, data in (extra or {}).items():
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


AGENT_LOOP = (
    'i=0; while true; do echo "{\\"ts\\":\\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\\",\\"tool\\":\\"http.get\\",'
    '\\"call_id\\":\\"c$i\\",\\"arguments\\":{\\"url\\":\\"https://support.example.com/t/$i\\"}}"; '
    "i=$((i+1)); sleep 0.2; done"
)
"""The agent's main loop: one JSON tool-call line on stdout every 0.2 s."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for daemons that cannot be told port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    """Signal a child by its pid, only while this Popen still owns it (not reaped: the pid cannot have
    been reused), and reap it; SIGKILL if it outlives `timeout`. Returns its exit status."""
    if proc.poll() is None:
        os.kill(proc.pid, sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        return proc.wait()


ALERTMANAGER_CONFIG = """\
route:
  receiver: agent-ir
  group_by: [alertname, agent_id]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: agent-ir
    webhook_configs:
      - url: {url}
        send_resolved: true
        http_config:
          authorization: {{type: Bearer, credentials: {token}}}
"""
"""One route to one webhook receiver; group waits of a second so a test sees a notification at once."""


@dataclass(frozen=True)
class Alertmanager:
    """A running Alertmanager: its base URL and its log file."""

    url: str
    log: Path

    def tail(self) -> str:
        """The end of its log (for a failing test's message)."""
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@contextmanager
def alertmanager(webhook_url: str, token: str) -> Iterator[Alertmanager]:
    """Debian's `prometheus-alertmanager` on 127.0.0.1 for the duration of the block, its webhook
    receiver posting to `webhook_url` with `token` as its bearer token.

    No gossip (`--cluster.listen-address=`), its own storage and config in a temp dir (0700).
    """
    import urllib.request

    binary = shutil.which("prometheus-alertmanager")
    if binary is None:
        raise Unavailable("prometheus-alertmanager not installed (apt-get install prometheus-alertmanager)")
    root = Path(tempfile.mkdtemp(prefix="iram-", dir="/tmp"))
    config = root / "alertmanager.yml"
    config.write_text(ALERTMANAGER_CONFIG.format(url=webhook_url, token=json.dumps(token)), encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        binary,
        f"--config.file={config}",
        f"--storage.path={root / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=debug",
    ]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with (root / "alertmanager.log").open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with opener.open(f"{url}/-/ready", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = (root / "alertmanager.log").read_text(errors="replace")[-2000:]
                    raise Unavailable(f"prometheus-alertmanager did not start: {tail}") from None
                time.sleep(0.1)
        yield Alertmanager(url, root / "alertmanager.log")
    finally:
        stop_process(proc)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Served:
    """A running `ir serve` (started by `start_ir_serve`): talk to it over HTTP, read what it printed."""

    proc: subprocess.Popen[bytes]
    url: str
    ws: Path
    out: Path
    err: Path

    def call(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, object]:
        """One request (proxies off); the status and the JSON (or text) answer."""
        import urllib.error
        import urllib.request

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with opener.open(request, timeout=30) as answer:
                status, data, kind = answer.status, answer.read(), answer.headers.get("content-type", "")
        except urllib.error.HTTPError as exc:
            status, data, kind = exc.code, exc.read(), exc.headers.get("content-type", "")
            exc.close()
        return status, json.loads(data) if kind.startswith("application/json") else data.decode()

    def output(self) -> str:
        """Everything it printed so far (stdout, then stderr)."""
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def alert_rows(self) -> list[tuple[str, str, str]]:
        """`(ref, outcome, alert status)` of each alert row in the workspace's inbox, oldest first
        (read from the file by a connection of our own, as another process would)."""
        return alert_rows(self.ws)

    def wait_until(self, what: str, check: Callable[[], bool], limit: float = 60, more: str = "") -> None:
        """Poll a state until it holds, or fail saying what never happened and what ir serve printed."""
        deadline = time.monotonic() + limit
        while not check():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"never: {what}\n{more}--- ir serve:\n{self.output()}")
            time.sleep(0.05)

    def kill(self) -> int:
        """SIGKILL it (as a crash would), by its pid while it is still ours."""
        return stop_process(self.proc, signal.SIGKILL)

    def stop(self) -> int:
        """SIGTERM it (a graceful stop) and reap it."""
        return stop_process(self.proc)


def start_ir_serve(ws: Path, folder: Path, env: dict[str, str], *args: str) -> Served:
    """`ir serve --port 0 ARGS` in workspace `ws` with `env` on top of this process's environment;
    returns once it printed the address it listens on (its output goes to files in `folder`)."""
    import re
    import sys

    folder.mkdir(parents=True, exist_ok=True)
    out, err = folder / "serve.out", folder / "serve.err"
    full_env = {**os.environ, **env}
    full_env.pop("IR_WORKSPACE", None)
    exe = Path(sys.executable).parent / "ir"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [str(exe), "serve", "--port", "0", *args], cwd=ws, env=full_env, stdout=stdout, stderr=stderr
        )
    served = Served(proc, "", ws, out, err)
    deadline = time.monotonic() + 60
    while not (found := re.search(r"listening on (http://127\.0\.0\.1:\d+)", out.read_text(errors="replace"))):
        if proc.poll() is not None or time.monotonic() > deadline:
            served.stop()
            raise AssertionError(f"ir serve did not start:\n{served.output()}")
        time.sleep(0.02)  # waiting for a state (the line it prints), not for time
    served.url = found.group(1)
    return served


@contextmanager
def ir_serve(ws: Path, folder: Path, env: dict[str, str], *args: str) -> Iterator[Served]:
    """`start_ir_serve` for the duration of the block, then SIGTERM (if it is still running)."""
    served = start_ir_serve(ws, folder, env, *args)
    try:
        yield served
    finally:
        served.stop()


def alert_rows(ws: Path) -> list[tuple[str, str, str]]:
    """`(ref, outcome, alert status)` of each alert row in `ws`'s inbox, oldest first."""
    import sqlite3
    from contextlib import closing

    path = ws / ".ir" / "inbox.sqlite"
    if not path.exists():
        return []
    with closing(sqlite3.connect(path, timeout=30)) as db:
        rows = db.execute("SELECT delivery, idx, outcome, alert FROM alerts ORDER BY id").fetchall()
    return [(f"{d}.{i}", str(outcome), str(json.loads(alert)["status"])) for d, i, outcome, alert in rows]
