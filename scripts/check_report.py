"""Open a report in headless Chromium, check that every figure loaded, and save a screenshot.

    python scripts/check_report.py analyses/default/report.html [--screenshot out.png]

Needs Debian's `chromium` (apt-get install chromium). Prints the number of figures loaded; exits 1 if
any figure failed to load.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=10000",
]
PROBE = (
    "<script>window.addEventListener('load',()=>{const i=[...document.images];"
    "const ok=i.filter(x=>x.complete&&x.naturalWidth>0).length;"
    "document.body.setAttribute('data-figures',ok+'/'+i.length);});</script>"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument(
        "--screenshot", type=Path, default=None, help="PNG to save (default: beside the report)"
    )
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        print("chromium not found: apt-get install chromium", file=sys.stderr)
        return 2
    shot = args.screenshot or args.report.with_name("report-screenshot.png")
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.html"
        probe.write_text(
            args.report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
        )
        profile = ["--user-data-dir=" + str(Path(tmp) / "profile")]
        dom = subprocess.run(
            [chromium, *FLAGS, *profile, "--dump-dom", probe.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        subprocess.run(
            [
                chromium,
                *FLAGS,
                *profile,
                "--window-size=1200,2400",
                f"--screenshot={shot.resolve()}",
                args.report.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    found = re.search(r'data-figures="(\d+)/(\d+)"', dom)
    if not found:
        print("could not read the page's figure count", file=sys.stderr)
        return 1
    ok, total = int(found.group(1)), int(found.group(2))
    print(f"{ok}/{total} figures loaded; screenshot: {shot}")
    return 0 if ok == total and total > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
