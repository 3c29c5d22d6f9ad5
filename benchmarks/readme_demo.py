"""Regenerate the README's demo figures from the current code.

Runs what ``make demo`` runs (``sklstm demo``), times it, and writes its
printed table into README.md between the ``demo:begin`` / ``demo:end``
markers, with the machine and the date beside it. Run it after any change
that can move the demo's numbers:

    .venv/bin/python benchmarks/readme_demo.py            # rewrite README.md
    .venv/bin/python benchmarks/readme_demo.py --check    # only print the block
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- demo:begin -->", "<!-- demo:end -->"


def run_demo() -> tuple[str, float]:
    """The demo's stdout and its wall time in seconds."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "sklstm", "demo", "--no-progress", "--out", out],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout, time.perf_counter() - start


def table_lines(stdout: str) -> list[str]:
    """The preparation line and the score table of the demo's output."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Preparation"))
    end = next(i for i, line in enumerate(lines) if line.startswith("seasonal naive"))
    return lines[start : end + 1]


def machine() -> str:
    """CPU model and core count, as the README states them."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def block(lines: list[str], seconds: float, where: str, day: str) -> str:
    """The README's text between the markers."""
    body = "\n".join(lines)
    return (
        f"{BEGIN}\n```\n{body}\n```\n\n"
        f"Measured by `benchmarks/readme_demo.py` on {day}: {seconds / 60:.1f} "
        f"minutes on {where}, a quiet machine.\n{END}"
    )


def rewrite(readme: str, new_block: str) -> str:
    """``readme`` with the text between the markers replaced."""
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), flags=re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README.md has no {BEGIN} ... {END} block to rewrite.")
    return pattern.sub(lambda _: new_block, readme, count=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print, do not write")
    args = parser.parse_args(argv)
    stdout, seconds = run_demo()
    new = block(
        table_lines(stdout), seconds, machine(), datetime.date.today().isoformat()
    )
    print(new)
    if not args.check:
        README.write_text(rewrite(README.read_text(), new))
        print(f"rewrote {README}")


if __name__ == "__main__":
    main()
