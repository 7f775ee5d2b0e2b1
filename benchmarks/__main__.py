"""`make bench`: run every benchmark module and write docs/benchmarks.md.

Each module `benchmarks/bench_*.py` exposes `run() -> str`, a Markdown section with its numbers.
`python -m benchmarks NAME ...` runs only the named ones and keeps the others' last sections.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

from csms.machine import describe

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
MARK = "<!-- bench:{name} -->"


def _previous_sections() -> dict[str, str]:
    if not DOC.exists():
        return {}
    text = DOC.read_text()
    parts = re.split(r"(<!-- bench:[\w]+ -->)", text)
    out = {}
    for i in range(1, len(parts) - 1, 2):
        name = parts[i][len("<!-- bench:"):-len(" -->")]
        out[name] = parts[i + 1].strip()
    return out


def main(argv: list[str]) -> int:
    here = str(Path(__file__).parent)
    names = sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([here])
                   if m.name.startswith("bench_"))
    wanted = argv or names
    sections = _previous_sections()
    for name in wanted:
        print(f"== bench {name}", flush=True)
        module = importlib.import_module(f"benchmarks.bench_{name}")
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        sections[name] = f"_Measured {stamp}._\n\n" + module.run().strip()
        print(sections[name], flush=True)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = "unknown"
    body = ["# Benchmarks", "",
            "Written by `make bench` (`python -m benchmarks [NAME ...]`); never edit numbers by hand.",
            "", f"Machine: {describe()}.  ", f"Last run at commit `{commit or 'uncommitted'}`.", ""]
    for name in names:
        if name in sections:
            body += [MARK.format(name=name), sections[name], ""]
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text("\n".join(body))
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
