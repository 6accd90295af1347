"""The report as a reader meets it: headless Chromium at a desktop and a phone width. No sideways scroll,
every image loaded, the answer card on the first screen, every anchor and relative link resolves. One
screenshot per width is kept under tests/artifacts/ (ignored by git)."""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from beliefs.analyses import synthetic_run
from beliefs.report import write_report

PROBE = """(() => {
  const w = window.innerWidth, h = window.innerHeight;
  const doc = document.documentElement;
  const imgs = [...document.images];
  const answer = document.getElementById('answer');
  const hrefs = [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));
  const broken = hrefs.filter(x => x.startsWith('#') && x.length > 1 &&
      !document.getElementById(decodeURIComponent(x.slice(1))));
  return {
    width: w, height: h, scroll_width: doc.scrollWidth,
    images: imgs.length, images_broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length,
    answer_top: answer ? answer.getBoundingClientRect().top : null,
    anchors: hrefs.filter(x => x.startsWith('#')).length, anchors_broken: broken,
    files: hrefs.filter(x => !x.startsWith('#') && !/^[a-z]+:/.test(x)),
    viewport: !!document.querySelector('meta[name=viewport]'),
  };
})()"""
"""What a reader meets, measured in the page: its width and whether it scrolls sideways, images that did
not load, where the answer card starts, anchors that do not resolve, relative links (checked on disk)."""


def chromium() -> str | None:
    """The Chromium executable (``BELIEFS_CHROMIUM``, else ``chromium`` on the PATH), or None."""
    named = os.environ.get("BELIEFS_CHROMIUM")
    if named:
        return named
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: fd 3
    to the browser, fd 4 from it, NUL-terminated JSON), so that the viewport can be set exactly (a
    headless window is at least 500 px wide) with nothing but the standard library."""

    def __init__(self, exe: str) -> None:
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()
        script = f'exec 3<&{to_child_r} 4>&{from_child_w}; exec "$0" "$@"'
        self.proc = subprocess.Popen(
            [
                "bash",
                "-c",
                script,
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(to_child_r, from_child_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._id = 0

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._w, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))

    def wait_for(self, event: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._read().get("method") == event:
                return
        raise TimeoutError(event)

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._r], [], [], 60)
            if not ready:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(raw))

    def close(self) -> None:
        os.close(self._w)
        os.close(self._r)
        self.proc.terminate()
        self.proc.wait(timeout=30)


def probe(page: Path, width: int, height: int = 844, screenshot: Path | None = None) -> dict[str, Any]:
    """:data:`PROBE` on ``page`` at ``width`` × ``height`` CSS pixels (a phone's metrics below 600 px);
    with ``screenshot``, a PNG of the first screen."""
    exe = chromium()
    if exe is None:
        raise RuntimeError("no chromium")
    browser = Browser(exe)
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 600,
        )
        browser.send("Page.enable", session)
        browser.send("Page.navigate", session, url=page.resolve().as_uri())
        browser.wait_for("Page.loadEventFired")
        found = browser.send("Runtime.evaluate", session, expression=PROBE, returnByValue=True)
        result: dict[str, Any] = found["result"]["value"]
        if screenshot is not None:
            shot = browser.send("Page.captureScreenshot", session, format="png")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        return result
    finally:
        browser.close()


FIXTURE = Path(__file__).with_name("fixtures") / "summary.json"
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
WIDTHS = (1400, 390)

pytestmark = pytest.mark.skipif(
    chromium() is None, reason="no chromium here: install Debian's chromium (make setup-browser) to run"
)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    run = synthetic_run(n_facts=40, random_init_control=True)
    summary = json.loads(FIXTURE.read_text())
    tables = out / "tables"
    tables.mkdir()
    (tables / "summary.json").write_text(json.dumps(summary))
    write_report(run, out, summary=summary, tables_dir=tables)
    return out / "report.html"


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_page_in_a_browser(page: Path, width: int) -> None:
    seen = probe(page, width, screenshot=ARTIFACTS / f"report-{width}.png")
    assert seen["viewport"]
    assert seen["width"] == width
    assert seen["scroll_width"] <= width, f"the page scrolls sideways at {width} px"
    assert seen["images"] >= 1 and seen["images_broken"] == 0
    assert seen["answer_top"] is not None and 0 <= seen["answer_top"] < seen["height"] * 0.75
    assert seen["anchors"] >= 10 and seen["anchors_broken"] == []
    for href in seen["files"]:
        assert (page.parent / href).exists(), f"link to a missing file: {href}"
