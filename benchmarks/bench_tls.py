"""TLS reconnect storm: N chargers (security profiles 2 and 3) reconnecting at once over wss.

`csms serve` runs in its own process with a lab PKI from `csms ca init`; the chargers are plain
websockets clients with Python ``ssl`` contexts in this process, all started together (every
handshake a full one: no session resumption). We report completed OCPP handshakes (TLS + HTTP
upgrade + the profile's authentication) per second of wall time from the first attempt to the
last success, the server's CPU time per handshake, and the same storm over plain ws with Basic
auth for comparison. Client and server share this machine's cores.
"""

from __future__ import annotations

import asyncio
import base64
import os
import resource
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets
from sqlalchemy import create_engine, insert

from csms import clock, security
from csms.certificates import CertificateAuthority, issue_client, key_pem, pem, write_private
from csms.store.migrate import upgrade
from csms.store.tables import ChargerRow

CHARGERS = int(os.environ.get("BENCH_TLS_CHARGERS", "1000"))
ROUNDS = int(os.environ.get("BENCH_TLS_ROUNDS", "2"))
PASSWORD = "bench-password-0123456789"
ROOT = Path(__file__).resolve().parent.parent


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _register(db_url: str, ids_by_profile: dict[int, list[str]]) -> None:
    upgrade(db_url)
    password_hash = security.hash_password(PASSWORD)
    rows = [{"id": cid, "registered_at": clock.now(), "security_profile": profile,
             "password_hash": password_hash if profile < 3 else None, "connected": False,
             "auto_registered": False, "phase_wiring": "L1L2L3"}
            for profile, ids in ids_by_profile.items() for cid in ids]
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(insert(ChargerRow.__table__), rows)
    engine.dispose()


def _serve(db_url: str, pki: Path, server_kind: str) -> tuple[subprocess.Popen, str, str]:
    cmd = [sys.executable, "-m", "csms.cli", "serve", "--database-url", db_url, "--no-migrate",
           "--http-port", "0", "--ocpp-port", "0", "--ocpp-tls-port", "0", "--no-control",
           "--log-level", "WARNING", "--tls-cert", str(pki / f"server-{server_kind}.pem"),
           "--tls-key", str(pki / f"server-{server_kind}.key"),
           "--tls-client-ca", str(pki / "ca.pem")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CSMS_AUTH_FAILURES_PER_MINUTE": "100000"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=ROOT, env=env)
    ws_url = wss_url = ""
    for line in proc.stdout:
        if line.startswith("OCPP gateway: "):
            ws_url = line.split()[2].rsplit("/", 1)[0]
        elif line.startswith("OCPP gateway (TLS): "):
            wss_url = line.split()[3].rsplit("/", 1)[0]
        elif line.startswith("HTTP console"):
            return proc, ws_url, wss_url
    raise RuntimeError("csms serve did not start")


async def _storm(url: str, ids: list[str], contexts: dict[str, ssl.SSLContext | None],
                 basic: bool) -> tuple[float, int, str]:
    """Connect every charger at once; (seconds to the last success, failures, first error)."""
    async def one(cid: str):
        headers = None
        if basic:
            token = base64.b64encode(f"{cid}:{PASSWORD}".encode()).decode()
            headers = {"Authorization": f"Basic {token}"}
        return await websockets.connect(f"{url}/{cid}", ssl=contexts.get(cid),
                                        additional_headers=headers, subprotocols=["ocpp1.6"],
                                        open_timeout=120, ping_interval=None, compression=None)

    t0 = time.perf_counter()
    results = await asyncio.gather(*(one(cid) for cid in ids), return_exceptions=True)
    elapsed_s = time.perf_counter() - t0
    errors = [r for r in results if isinstance(r, BaseException)]
    await asyncio.gather(*(r.close() for r in results if not isinstance(r, BaseException)),
                         return_exceptions=True)
    return elapsed_s, len(errors), repr(errors[0])[:120] if errors else ""


def _client_contexts(pki: Path, ids: list[str], with_certs: bool) -> dict[str, ssl.SSLContext]:
    if not with_certs:
        ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        return dict.fromkeys(ids, ctx)
    ca = CertificateAuthority.load(pki / "ca.pem", pki / "ca.key")
    out = {}
    for cid in ids:
        cert, key = issue_client(ca.cert, ca.key, cid, clock.wall_now())
        (pki / f"{cid}.pem").write_text(pem(cert))
        write_private(pki / f"{cid}.key", key_pem(key))
        ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        ctx.load_cert_chain(str(pki / f"{cid}.pem"), str(pki / f"{cid}.key"))
        out[cid] = ctx
    return out


async def _case(proc: subprocess.Popen, url: str, ids: list[str], contexts, basic: bool
                ) -> list[tuple[float, int, str, float]]:
    rows = []
    for _ in range(ROUNDS):  # round 1: first connection; later rounds: the reconnect storm
        cpu0 = _cpu_s(proc.pid)
        elapsed_s, errors, first = await _storm(url, ids, contexts, basic)
        server_cpu_s = _cpu_s(proc.pid) - cpu0
        rows.append((elapsed_s, errors, first, server_cpu_s))
        await asyncio.sleep(1.0)  # let the server see every close
    return rows


def run() -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    cases = [  # (name, server certificate, profile, over TLS, client certificates)
        ("ws + Basic (profile 1, no TLS)", "rsa", 1, False, False),
        ("wss + Basic, RSA 2048 server cert (profile 2)", "rsa", 2, True, False),
        ("wss + Basic, ECDSA P-256 server cert (profile 2)", "ecdsa", 2, True, False),
        ("wss + client cert, ECDSA P-256 (profile 3)", "ecdsa", 3, True, True),
    ]
    lines = [
        "## TLS reconnect storm (bench_tls)",
        "",
        f"{CHARGERS} chargers registered with the profile shown connect all at once to "
        "`csms serve --tls-cert ... --tls-client-ca ...` (SQLite, `--no-control`), then drop "
        f"and reconnect all at once ({ROUNDS - 1} more round(s)). Every handshake is a full TLS "
        "1.3 handshake (Python clients, no session resumption) followed by the HTTP upgrade and "
        "the profile's check (PBKDF2 Basic password, or the client certificate's chain and CN). "
        "Handshakes/s = chargers / wall time from the first attempt to the last success; the "
        f"client side (all {CHARGERS:,} TLS clients) runs on the same 2 cores, so the server gets about "
        "half of them. Server CPU is the csms process's user + system time during the storm.",
        "",
        "| case | round | handshakes/s | wall s | failed | server CPU ms/handshake |",
        "|---|---|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        pki = Path(tmp) / "pki"
        subprocess.run([sys.executable, "-m", "csms.cli", "ca", "init", "--out", str(pki),
                        "--host", "127.0.0.1"], check=True, capture_output=True, cwd=ROOT)
        for n, (name, kind, profile, tls, certs) in enumerate(cases):
            db_url = f"sqlite:///{tmp}/bench{n}.db"
            ids = [f"TLS{n}-{i:05d}" for i in range(CHARGERS)]
            _register(db_url, {profile: ids})
            contexts = _client_contexts(pki, ids, certs) if tls else {}
            proc, ws_url, wss_url = _serve(db_url, pki, kind)
            try:
                rows = asyncio.run(_case(proc, wss_url if tls else ws_url, ids, contexts,
                                         basic=profile < 3))
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            for r, (elapsed_s, errors, first, cpu_s) in enumerate(rows, start=1):
                ok = CHARGERS - errors
                label = "connect" if r == 1 else "reconnect"
                lines.append(f"| {name} | {r} ({label}) | {ok / elapsed_s:,.0f} | "
                             f"{elapsed_s:.2f} | {errors} | {1000 * cpu_s / max(ok, 1):.2f} |")
                if first:
                    lines.append(f"| | first failure: `{first}` | | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
