"""Real components for tests and benchmarks: a private Docker Engine, moto_server, a busybox image.

The daemon listens on a unix socket in a temp dir with `--iptables=false --bridge=none`: it
touches no host networking and no other daemon's state. moto_server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
