"""Time ``beliefs facts validate`` and ``beliefs facts stats`` on a generated fact set.

    python benchmarks/bench_authoring.py [--facts 50000]

Target: each within 30 s at 50,000 facts on a developer machine. Prints one line per command with the
wall time, the CPU time (user + system), the exit code and the load average (1 minute) when it started:
on a shared machine the load says how much of the CPUs the command had, and the CPU time is close to the
wall time the command takes on an idle one (set OMP_NUM_THREADS=1 so it runs on one core).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(path: Path, n: int) -> None:
    """A valid fact set of ``n`` facts over both domains and kinds, on 50 sentence frames."""
    lines = ["schema_version: 1", "name: bench", "facts:"]
    for i in range(n):
        domain = "logical" if i % 2 else "physical"
        kind = "hinge" if (i // 2) % 2 else "contingent"
        lines.append(
            f"  - {{id: f{i}, domain: {domain}, kind: {kind}, statement: Item {i} of frame {i % 50} is here., "
            f"false_statement: Item {i} of frame {i % 50} is not here., note: generated, template: t{i % 50}}}"
        )
    path.write_text("\n".join(lines) + "\n")


def timed(args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and exit code of ``beliefs ARGS`` in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "from beliefs.cli import main; main()", *args], capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        generate(path, args.facts)
        for command in (["facts", "validate", str(path)], ["facts", "stats", str(path), "--format", "json"]):
            load = os.getloadavg()[0]
            seconds, cpu, code = timed(command)
            print(
                f"{' '.join(command[:2])} on {args.facts:,} facts: {seconds:.1f} s wall, {cpu:.1f} s CPU "
                f"(exit {code}; load {load:.2f} on {os.cpu_count()} CPUs)",
                flush=True,
            )


if __name__ == "__main__":
    main()
