"""The import rules of the design (pyproject [tool.importlinter]) hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_import_contracts_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_the_web_layer_never_commits():
    """One write path (issue 13): the API and the console change the store only through its
    writer thread (csms/web/writes.py); a request session that commits would be a second
    writer. The CLIs run without a server and may commit."""
    import ast

    root = Path(__file__).resolve().parent.parent
    cli = {"csms/web/users_cli.py"}
    offenders = []
    for path in sorted((root / "csms" / "web").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name in cli:
            continue
        for node in ast.walk(ast.parse(path.read_text(), name)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "commit":
                offenders.append(f"{name}:{node.lineno}")
    assert not offenders, "commits outside the store's writer: " + ", ".join(offenders)


def test_ocpp_charging_needs_keys_stay_at_the_edge():
    """Typed facts at the OCPP edge (issue 13): NotifyEVChargingNeeds is parsed once, in
    csms/ocpp, into csms.domain.charging_needs.ChargingNeeds; nothing else in csms reads its
    camelCase keys."""
    root = Path(__file__).resolve().parent.parent
    keys = ("requestedEnergyTransfer", "acChargingParameters", "dcChargingParameters",
            "evMaxCurrent", "departureTime")
    offenders = []
    for path in sorted((root / "csms").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name.startswith("csms/ocpp/"):
            continue
        text = path.read_text()
        offenders += [f"{name}: {key}" for key in keys if key in text]
    assert not offenders, "OCPP charging-needs keys outside csms/ocpp: " + ", ".join(offenders)


def test_protocol_versions_are_the_enum():
    """Enums for the protocol (issue 13): csms names an OCPP version as a Protocol member;
    the version strings themselves are written once, in csms/domain/model.py."""
    import ast

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in sorted((root / "csms").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name == "csms/domain/model.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), name)):
            if isinstance(node, ast.Constant) and node.value in ("1.6", "2.0.1", "2.1"):
                offenders.append(f"{name}:{node.lineno}")
    assert not offenders, "protocol literals outside the enum: " + ", ".join(offenders)
