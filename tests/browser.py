"""Open local HTML files in headless Chromium and report what a reader would have seen.

The browser is Debian's ``chromium`` driven by its ``chromium-driver``, both at
fixed paths: Selenium is given them explicitly, so Selenium Manager never runs
and nothing is downloaded (CI has no internet). ``.ci/run`` installs both.

    with Chromium() as browser:
        page = browser.open("report.html", screenshot="report.png")
        assert not page.console_errors and not page.outside_requests

One :class:`Chromium` serves many pages: launching one costs seconds on a busy
machine, so tests share one per module.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1")
WINDOW = (1280, 900)  # CSS pixels: the width a report is read at, and the first screen's height
LOCAL_SCHEMES = ("file:", "data:", "about:")  # everything else leaves the machine
LOAD_TIMEOUT = 60.0  # seconds: generous, CI is a busy 2-core machine
MAX_SHOT_HEIGHT = 16_000  # CSS pixels: a runaway page must not write a gigantic PNG

# Before any script of the page runs: record alert()/confirm()/prompt() instead of blocking on a dialog.
_SPY = """
window.__gradcheck_dialogs = [];
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (message) => { window.__gradcheck_dialogs.push(name + ": " + String(message)); };
}
"""
# What the page holds once loaded; boxes in CSS pixels of the whole page (a full-page screenshot's pixels).
_INSPECT = """
const box = e => { const r = e.getBoundingClientRect();
                   return [r.left + scrollX, r.top + scrollY, r.width, r.height]; };
return {
  title: document.title,
  text: document.body ? document.body.innerText : "",
  scripts: Array.from(document.scripts, s => s.src || s.text),
  handlers: Array.from(document.querySelectorAll("*")).flatMap(
    e => Array.from(e.attributes).filter(a => a.name.startsWith("on")).map(a => e.tagName + " " + a.name)),
  links: Array.from(document.links, a => a.href),
  dialogs: window.__gradcheck_dialogs || [],
  resources: performance.getEntriesByType("resource").map(e => e.name),
  images: Array.from(document.images, i => ({
    classes: i.className, src: i.src, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,
    box: box(i)})),
};
"""
# The box of the whole page, or of the first element matching a selector (null when none does).
_BOX = """
if (arguments[0] === null) { const d = document.documentElement; return [0, 0, d.scrollWidth, d.scrollHeight]; }
const e = document.querySelector(arguments[0]);
if (!e) return null;
const r = e.getBoundingClientRect();
return [r.left + scrollX, r.top + scrollY, r.width, r.height];
"""
_LOADED = """
return document.readyState === "complete" && Array.from(document.images).every(i => i.complete);
"""


def missing() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium and its driver are both installed."""
    absent = [f"{path} (Debian package {package})" for path, package in
              ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver"))
              if not (path.is_file() and os.access(path, os.X_OK))]
    if not absent:
        return None
    return (f"{' and '.join(absent)} not installed: the browser tests need Debian's chromium and "
            f"chromium-driver, which .ci/run installs with apt-get")


@dataclass(frozen=True)
class Image:
    """One ``<img>`` of a loaded page."""

    classes: str
    src: str  # a data: URI cut short
    complete: bool
    width: int  # natural size in pixels: 0 when the picture could not be decoded
    height: int
    box: tuple[float, float, float, float]  # left, top, width, height on the page in CSS pixels (= a screenshot's)

    @property
    def decoded(self) -> bool:
        """Whether the browser loaded and decoded it (a broken picture is complete with width 0)."""
        return self.complete and self.width > 0


@dataclass(frozen=True)
class Page:
    """What one opened page did and showed."""

    url: str
    title: str
    text: str  # document.body.innerText: what a reader can read
    console: tuple[str, ...]  # every console entry, "LEVEL message"
    console_errors: tuple[str, ...]  # the SEVERE ones: script errors, resources that failed to load
    requests: tuple[str, ...]  # every URL the page asked for (network log and Resource Timing), data: ones cut short
    dialogs: tuple[str, ...]  # alert(), confirm() and prompt() calls, "alert: message"
    scripts: tuple[str, ...]  # each <script> element's src or text, once loaded
    handlers: tuple[str, ...]  # inline event handler attributes once loaded, "IMG onerror"
    links: tuple[str, ...]  # every <a href>, resolved against the page's URL
    images: tuple[Image, ...]
    screenshot: Path | None

    @property
    def outside_requests(self) -> tuple[str, ...]:
        """The requested URLs that leave the machine (anything but file:, data: and about:)."""
        return tuple(u for u in self.requests if not u.startswith(LOCAL_SCHEMES))

    def pictures(self, css_class: str) -> tuple[Image, ...]:
        """The ``<img class="css_class">`` of the page."""
        return tuple(i for i in self.images if css_class in i.classes.split())

    def decoded(self, css_class: str) -> int:
        """How many ``<img class="css_class">`` loaded and decoded."""
        return sum(1 for i in self.pictures(css_class) if i.decoded)


def _short(url: str) -> str:
    """A URL fit for an assertion message: a data: URI is cut after its media type."""
    return url.split(",", 1)[0] + ",…" if url.startswith("data:") else url


class Chromium:
    """One headless Chromium (a fresh profile, a fixed window), opening local files one after another."""

    def __init__(self, *, window: tuple[int, int] = WINDOW) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        reason = missing()
        if reason:
            raise FileNotFoundError(reason)
        self.window = window
        self._profile = tempfile.mkdtemp(prefix="gradcheck-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (*FLAGS, f"--user-data-dir={self._profile}", f"--window-size={window[0]},{window[1]}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        try:
            self.driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        except BaseException:
            shutil.rmtree(self._profile, ignore_errors=True)
            raise
        self.driver.set_page_load_timeout(LOAD_TIMEOUT)
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _SPY})

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Quit the browser and delete its profile."""
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self._profile, ignore_errors=True)

    def open(self, path: str | Path, *, screenshot: str | Path | None = None, element: str | None = None) -> Page:
        """Load the local file ``path``, wait until it and its images have loaded, and report on it.

        ``screenshot``: write a PNG of the whole page there (or of the first
        element matching the CSS selector ``element``).
        """
        from selenium.webdriver.support.ui import WebDriverWait

        url = Path(path).resolve().as_uri()
        for log in ("browser", "performance"):  # drop the previous page's entries
            self.driver.get_log(log)
        self.driver.get(url)
        WebDriverWait(self.driver, LOAD_TIMEOUT).until(lambda d: d.execute_script(_LOADED))
        seen = self.driver.execute_script(_INSPECT)
        console = [f"{e['level']} {e['message']}" for e in self.driver.get_log("browser")]
        requests = [_short(u) for u in (*self._network_requests(), *seen["resources"])]
        shot = None
        if screenshot is not None:
            shot = Path(screenshot)
            shot.write_bytes(self.png(element))
        return Page(url=url, title=seen["title"], text=seen["text"], console=tuple(console),
                    console_errors=tuple(c for c in console if c.startswith("SEVERE")),
                    requests=tuple(dict.fromkeys(requests)), dialogs=tuple(seen["dialogs"]),
                    scripts=tuple(seen["scripts"]), handlers=tuple(seen["handlers"]), links=tuple(seen["links"]),
                    images=tuple(Image(**{**i, "src": _short(i["src"]), "box": tuple(i["box"])})
                                 for i in seen["images"]),
                    screenshot=shot)

    def png(self, element: str | None = None, *, margin: int = 0,
            box: tuple[float, float, float, float] | None = None) -> bytes:
        """The current page as PNG bytes, below the window's bottom too: the whole page, its first ``element`` (a
        CSS selector) with ``margin`` CSS pixels around it, or the ``box`` (left, top, width, height) of it."""
        if box is None:
            box = self.driver.execute_script(_BOX, element)
            if box is None:
                raise LookupError(f"no element of {self.driver.current_url} matches {element!r}")
        x, y, width, height = box
        x, y = max(0, x - margin), max(0, y - margin)
        clip = {"x": x, "y": y, "width": width + 2 * margin, "height": min(height + 2 * margin, MAX_SHOT_HEIGHT),
                "scale": 1}
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot",
                                           {"format": "png", "captureBeyondViewport": True, "clip": clip})
        return base64.b64decode(shot["data"])

    def _network_requests(self) -> list[str]:
        """The URLs of every request Chromium's network log saw since the last call (failed ones too)."""
        urls = []
        for entry in self.driver.get_log("performance"):
            message: dict[str, Any] = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
        return urls
