"""``csms-sim --tls-ca``: simulated chargers over wss, profile 2 (Basic) and profile 3 (client
certificates from `csms ca issue`), against the in-process CSMS with TLS."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from simulators.__main__ import build_parser, build_site, use_tls
from simulators.clock import SimClock
from tests.security.helpers import PASSWORD, register
from tests.server import csms_command
from tests.simulators.helpers import FAST_BACKOFF, START


async def test_simulated_chargers_over_tls(tls_services, tls_lab, tmp_path):
    for cid in ("TLS-0001", "TLS-0002"):
        register(tls_services, cid, 2)
    for cid in ("TLS-0003", "TLS-0004"):
        register(tls_services, cid, 3, password=None)
        subprocess.run(csms_command("ca", "issue", "--ca-cert", str(tls_lab.ca_cert),
                                    "--ca-key", str(tls_lab.ca_key), "--id", cid,
                                    "--out", str(tmp_path / "certs")), check=True,
                       capture_output=True)
    passwords = tmp_path / "passwords"
    passwords.write_text(f"TLS-0001 {PASSWORD}\nTLS-0002 {PASSWORD}\n")
    args = build_parser().parse_args([
        "--url", tls_services.wss_url, "--chargers", "4", "--protocol", "mixed",
        "--id-prefix", "TLS", "--password-file", str(passwords),
        "--tls-ca", str(tls_lab.ca_cert), "--tls-cert-dir", str(tmp_path / "certs")])
    site = build_site(args, clock=SimClock(60.0, START), backoff=FAST_BACKOFF)
    use_tls(site, args)  # what amain does after build_site
    task = asyncio.ensure_future(site.run(None))
    try:
        await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in site.chargers)), 20)
        links = tls_services.gateway.links
        assert {cid: (link.tls, link.security_profile, link.protocol)
                for cid, link in links.items()} == {
            "TLS-0001": (True, 2, "1.6"), "TLS-0002": (True, 2, "2.0.1"),
            "TLS-0003": (True, 3, "1.6"), "TLS-0004": (True, 3, "2.0.1")}
    finally:
        task.cancel()
        await site.stop()


def test_tls_options_need_wss():
    parser = build_parser()
    from simulators.__main__ import main

    with pytest.raises(SystemExit):
        main(["--url", "ws://127.0.0.1:9000/ocpp", "--tls-ca", "ca.pem"])
    with pytest.raises(SystemExit):
        main(["--url", "wss://127.0.0.1:9443/ocpp", "--tls-cert", "x.pem"])
    assert parser.parse_args(["--url", "wss://h/ocpp", "--tls-ca", "ca.pem"]).tls_ca == "ca.pem"
