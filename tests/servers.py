"""Throwaway real servers for the integration tier: PostgreSQL (initdb + pg_ctl on a free
loopback port) and an S3 API server (moto in server mode on 127.0.0.1).

Set SHOPDW_TEST_POSTGRES_DSN to use an existing server instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from typing import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise RuntimeError(
        "PostgreSQL server binaries not found; run scripts/ensure-system-deps.sh (apt-get install postgresql)"
    )


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a fresh PostgreSQL cluster in a temp dir; yield its DSN; stop and delete it."""
    if os.environ.get("SHOPDW_TEST_POSTGRES_DSN"):
        yield os.environ["SHOPDW_TEST_POSTGRES_DSN"]
        return
    bindir = _pg_bin()
    root = tempfile.mkdtemp(prefix="shopdw-pg-")
    data = os.path.join(root, "data")
    port = free_port()
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:  # initdb refuses to run as root: run the server as the postgres user
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    log = os.path.join(root, "server.log")
    subprocess.run(
        [*prefix, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
    subprocess.run(
        [*prefix, f"{bindir}/pg_ctl", "-D", data, "-l", log, "-o", opts, "-w", "start"], check=True, capture_output=True
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3 API server on 127.0.0.1 (a real HTTP server); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.05)
    try:
        yield endpoint
    finally:
        server.stop()
