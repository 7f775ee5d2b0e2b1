"""TLS for simulated chargers (``csms-sim --tls-ca``): security profile 2 (wss + Basic) and, with
a client certificate whose CN is the charger id, profile 3. The simulators import nothing from
csms: this is plain Python ``ssl``."""

from __future__ import annotations

import ssl
from pathlib import Path


def client_context(ca_file: str | None, cert_file: str | None = None,
                   key_file: str | None = None) -> ssl.SSLContext:
    """A charger's context: verifies the CSMS against ``ca_file`` (the system store without
    it), TLS 1.2 or newer, optionally presents a client certificate."""
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file:
        ctx.load_cert_chain(cert_file, key_file)
    return ctx


def contexts_for(ids: list[str], ca_file: str | None, cert_file: str | None = None,
                 key_file: str | None = None, cert_dir: str | None = None
                 ) -> dict[str, ssl.SSLContext]:
    """One context per charger: with ``cert_dir``, the charger ID's ``ID.pem``/``ID.key`` (as
    `csms ca issue` writes them) when present; otherwise the shared ``cert_file`` or none."""
    shared = client_context(ca_file, cert_file, key_file)
    out: dict[str, ssl.SSLContext] = {}
    for cid in ids:
        own = Path(cert_dir, f"{cid}.pem") if cert_dir else None
        if own is not None and own.is_file():
            out[cid] = client_context(ca_file, str(own), str(own.with_suffix(".key")))
        else:
            out[cid] = shared
    return out
