"""A real headless Chromium opens a generated report: no console errors, no network requests beyond the
file itself, hostile strings shown as text, and a screenshot that is not blank.

Chromium is Debian's ``chromium`` (scripts/test installs it). Without it the test skips, saying so, unless
TCOBENCH_REQUIRE_BROWSER is set (CI), where a missing browser is a failure. Driven over the DevTools
protocol with ``websocket-client``.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.unit.report.conftest import load_runs, load_serving_runs

from tcobench.catalog import load_catalog
from tcobench.report import build_report, render_html

pytestmark = pytest.mark.browser
HOSTILE = "<script>document.title='pwned'</script>evil-model"


def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        if os.environ.get("TCOBENCH_REQUIRE_BROWSER"):
            pytest.fail("TCOBENCH_REQUIRE_BROWSER is set but chromium is not installed (apt-get install chromium)")
        pytest.skip("headless Chromium not installed (apt-get install chromium; scripts/test does it)")
    return path


class DevTools:
    """One page target over the DevTools protocol: send commands, collect events."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})  # type: ignore[no-any-return]
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            self.events.append(json.loads(self.ws.recv()))

    def drain(self, seconds: float) -> None:
        import websocket

        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.ws.settimeout(left)
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                break


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    exe = chromium()
    try:
        import websocket  # noqa: F401
    except ImportError:
        pytest.fail("websocket-client is missing: pip install -e '.[test]'")
    profile = tmp_path / "profile"
    proc = subprocess.Popen([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
                             "--disable-extensions", f"--user-data-dir={profile}", "--remote-debugging-port=0",
                             "--remote-allow-origins=*", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chromium did not start (exit code {proc.poll()})")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            page = next(t for t in json.load(resp) if t["type"] == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        yield tools
        tools.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _pixels_vary(png: bytes) -> tuple[int, float]:
    """(distinct colours, standard deviation of grey levels) of a PNG screenshot."""
    from PIL import Image, ImageStat

    img = Image.open(io.BytesIO(png)).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20) or []
    return len(colours), ImageStat.Stat(img.convert("L")).stddev[0]


def _open_cleanly(browser: DevTools, path: Path) -> None:
    """Open the page at ``path`` at 1280 x 900 and check it threw nothing, logged no error and loaded nothing but
    itself."""
    url = path.as_uri()
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable")
    browser.send("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
    browser.send("Page.navigate", url=url)
    browser.wait_for("Page.loadEventFired")
    browser.drain(1.0)
    errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"
              or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
              or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
    assert errors == [], f"console errors: {errors}"
    requests = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert requests == [url], f"the page must load nothing but itself: {requests}"


def test_report_opens_cleanly_in_headless_chromium(browser: DevTools, tmp_path: Path) -> None:
    runs = load_runs()
    runs = [dataclasses.replace(r, inputs={**r.inputs, "model": HOSTILE}) if r.command == "bench" else r for r in runs]
    html = render_html(build_report(runs, load_catalog(), store="sqlite:///runs.sqlite"))
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    _open_cleanly(browser, path)

    title = browser.send("Runtime.evaluate", expression="document.title", returnByValue=True)["result"]["value"]
    assert title == "tcobench report"  # the hostile model name's script did not run
    scripts = browser.send("Runtime.evaluate", expression="document.querySelectorAll('script').length", returnByValue=True)
    assert scripts["result"]["value"] == 0
    shown = browser.send("Runtime.evaluate", expression="document.body.innerText.includes(\"<script>document.title='pwned'\")",
                         returnByValue=True)
    assert shown["result"]["value"] is True  # ... and shows as text
    svgs = browser.send("Runtime.evaluate", expression="document.querySelectorAll('figure svg').length", returnByValue=True)
    assert svgs["result"]["value"] == 10  # with the validation strip chart
    details = browser.send("Runtime.evaluate", expression="document.querySelectorAll('details').length", returnByValue=True)
    assert details["result"]["value"] == 20

    shot = base64.b64decode(browser.send("Page.captureScreenshot", format="png")["data"])
    colours, spread = _pixels_vary(shot)
    assert colours > 50 and spread > 10, f"the screenshot looks blank: {colours} colours, grey-level spread {spread:.1f}"
    if os.environ.get("TCOBENCH_REPORT_SCREENSHOT"):  # docs/report.png is made this way
        Path(os.environ["TCOBENCH_REPORT_SCREENSHOT"]).write_bytes(shot)


def test_latency_against_load_draws_in_headless_chromium(browser: DevTools, tmp_path: Path) -> None:
    """The serving figures (TTFT p99 against the request rate, interactivity against throughput; measured beside
    simulated) from a bench run against vLLM's CPU build: drawn, captioned, nothing else loaded, not blank."""
    html = render_html(build_report(load_serving_runs(), load_catalog(), store="sqlite:///runs.sqlite"))
    path = tmp_path / "serving.html"
    path.write_text(html, encoding="utf-8")
    _open_cleanly(browser, path)

    def js(expr: str) -> Any:
        res = browser.send("Runtime.evaluate", expression=expr, returnByValue=True)
        assert "value" in res["result"], (expr, res)
        return res["result"]["value"]

    for name, title in (("bench-run-1-ttft-load", "TTFT p99 against request rate"),
                        ("bench-run-1-interactivity", "Interactivity against throughput")):
        assert js(f"document.querySelectorAll('#fig-{name} svg').length") == 1, name
        caption = js(f"document.querySelector('#fig-{name} figcaption').innerText")
        assert title in caption, caption
        legend = js(f"document.querySelector('#fig-{name} svg').textContent")
        assert "measured" in legend and "simulated" in legend
        box = js(f"(() => {{ const r = document.querySelector('#fig-{name}').getBoundingClientRect(); "
                 "return [r.x + window.scrollX, r.y + window.scrollY, r.width, r.height]; })()")
        assert box[2] > 300 and box[3] > 150, box  # laid out at a readable size
        shot = base64.b64decode(browser.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                                             clip={"x": box[0], "y": box[1], "width": box[2], "height": box[3],
                                                   "scale": 1})["data"])
        colours, spread = _pixels_vary(shot)
        assert colours > 20 and spread > 5, f"{name} looks blank: {colours} colours, spread {spread:.1f}"
    assert "Simulated (serving simulator at each level's load) vs measured" in js("document.body.innerText")
