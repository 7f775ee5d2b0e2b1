"""`csms ca init --out DIR --host NAME...`: a lab CA with an RSA and an ECDSA server certificate;
`csms ca issue --ca-cert F --ca-key F --id CP --out DIR`: a charger certificate (profile 3).

Private keys go to files readable by their owner only and are never printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from csms import clock


def add_parser(subparsers) -> None:
    ca = subparsers.add_parser("ca", help="lab certificates for TLS (security profiles 2, 3)")
    sub = ca.add_subparsers(dest="ca_command", required=True)
    init = sub.add_parser("init", help="a lab CA, an RSA and an ECDSA server certificate")
    init.add_argument("--out", required=True, help="directory for the PEM files")
    init.add_argument("--host", required=True, action="extend", nargs="+",
                      help="DNS names or IP addresses of the CSMS (repeatable)")
    init.add_argument("--org", help="O of the CA (the CPO name)")
    init.set_defaults(handler="csms.ca_cli:run_init")
    issue = sub.add_parser("issue", help="a charger client certificate signed by the CA")
    issue.add_argument("--ca-cert", required=True)
    issue.add_argument("--ca-key", required=True)
    issue.add_argument("--id", required=True, help="charger identity (the certificate's CN)")
    issue.add_argument("--org", help="O of the charger certificate (the CPO name)")
    issue.add_argument("--kind", choices=["ecdsa", "rsa"], default="ecdsa")
    issue.add_argument("--out", required=True, help="directory for ID.pem and ID.key")
    issue.set_defaults(handler="csms.ca_cli:run_issue")


def run_init(args: argparse.Namespace) -> int:
    from csms.certificates import init_lab

    files = init_lab(Path(args.out), args.host, clock.wall_now(), args.org)
    for name, path in files.items():
        print(f"{name}: {path}")
    print(f"serve with: csms serve --tls-cert {files['server_rsa_cert']} "
          f"--tls-key {files['server_rsa_key']} --tls-client-ca {files['ca_cert']} "
          f"--ca-cert {files['ca_cert']} --ca-key {files['ca_key']}")
    return 0


def run_issue(args: argparse.Namespace) -> int:
    from csms.certificates import CertificateAuthority, issue_client, key_pem, pem, write_private

    ca = CertificateAuthority.load(args.ca_cert, args.ca_key)
    cert, key = issue_client(ca.cert, ca.key, args.id, clock.wall_now(), args.kind, args.org)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = out / f"{args.id}.pem", out / f"{args.id}.key"
    cert_path.write_text(pem(cert) + "".join(pem(c) for c in ca.chain))
    write_private(key_path, key_pem(key))
    print(f"certificate: {cert_path}\nkey: {key_path}")
    return 0
