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
