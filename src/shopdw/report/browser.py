"""Open a page in real headless Chromium over the DevTools protocol (a pipe, no extra package).

Used by the dashboard tests to check the published page as a viewer sees it: every
request other than file:, data: and about: is blocked and recorded, console errors and
uncaught exceptions are collected, figures are read back with `evaluate`, and screenshots
are taken at a chosen viewport (laptop or phone).
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from shopdw.errors import ConfigError, TransientError

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def find_chromium() -> str | None:
    """Path of a Chromium binary (env SHOPDW_CHROMIUM first), or None."""
    for c in (os.environ.get("SHOPDW_CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if c and os.access(c, os.X_OK):
            return c
    return None


class Browser:
    """One headless Chromium with one page. Use as a context manager."""

    def __init__(self, binary: str | None = None, timeout: float = 60.0):
        self.binary = binary or find_chromium()
        if not self.binary:
            raise ConfigError("Chromium not found; install Debian's `chromium` package or set SHOPDW_CHROMIUM")
        self.timeout = timeout
        self.console_errors: list[str] = []
        self.blocked_requests: list[str] = []
        self.requests: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._next_id = 0
        self._buf = b""
        self._session: str | None = None

    # ---- process and wire -------------------------------------------------
    def __enter__(self) -> Browser:
        self._profile = tempfile.mkdtemp(prefix="shopdw-chromium-")
        to_child_r, self._to_child_w = os.pipe()
        self._from_child_r, from_child_w = os.pipe()

        def wire_fds() -> None:  # runs in the child: Chromium reads fd 3 and writes fd 4
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-first-run",
            "--disable-extensions", "--mute-audio", "--hide-scrollbars", "--remote-debugging-pipe",
            f"--user-data-dir={self._profile}", "about:blank",
        ]  # fmt: skip
        self._proc = subprocess.Popen(  # noqa: S603 - fixed binary and flags
            [self.binary, *flags],
            preexec_fn=wire_fds,  # noqa: PLW1509
            close_fds=False,
            start_new_session=True,  # its own process group: a kill reaches the renderers too
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for method in ("Runtime.enable", "Log.enable", "Page.enable"):
                self.call(method)
            self.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._proc.poll() is None:
                self._send({"id": self._new_id(), "method": "Browser.close", "params": {}})
                self._proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - closing best effort, then kill
            pass
        if self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._proc.wait()
        for fd in (self._to_child_w, self._from_child_r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _send(self, msg: dict[str, Any]) -> None:
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self._to_child_w, data)
            data = data[n:]

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TransientError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_child_r], [], [], left)
            if ready:
                chunk = os.read(self._from_child_r, 1 << 20)
                if not chunk:
                    raise TransientError("Chromium exited unexpectedly")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _on_event(self, msg: dict[str, Any]) -> None:
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Fetch.requestPaused":
            url = params["request"]["url"]
            self.requests.append(url)
            if url.startswith(LOCAL_SCHEMES):
                self._send({"id": self._new_id(), "method": "Fetch.continueRequest",
                            "params": {"requestId": params["requestId"]}, "sessionId": msg.get("sessionId")})  # fmt: skip
            else:
                self.blocked_requests.append(url)
                self._send({"id": self._new_id(), "method": "Fetch.failRequest",
                            "params": {"requestId": params["requestId"], "errorReason": "BlockedByClient"},
                            "sessionId": msg.get("sessionId")})  # fmt: skip
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.console_errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            d = params["exceptionDetails"]
            self.console_errors.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.console_errors.append(f"{params['entry'].get('source')}: {params['entry'].get('text')}")
        self._events.append(msg)

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float | None = None) -> dict[str, Any]:
        """Send one DevTools command (to the page once attached) and return its result."""
        mid = self._new_id()
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if self._session and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self._session
        self._send(msg)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == mid:
                if "error" in reply:
                    raise RuntimeError(f"DevTools {method} failed: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._on_event(reply)

    def pump(self, seconds: float) -> None:
        """Process events for a while (lets late console errors and requests arrive)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                msg = self._read_message(deadline)
                if "method" in msg:
                    self._on_event(msg)
        except TransientError:
            if self._proc.poll() is not None:
                raise

    # ---- page API ------------------------------------------------------------
    def viewport(self, width: int, height: int, mobile: bool = False) -> None:
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})  # fmt: skip

    def open(self, url: str, ready_expr: str = "document.readyState === 'complete'", timeout: float = 30) -> None:
        """Navigate and wait until `ready_expr` is true in the page."""
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.evaluate(f"!!({ready_expr})") is True:
                    return
            except RuntimeError:  # the document may not exist yet mid-navigation
                pass
            self.pump(0.1)
        raise TransientError(f"{url}: page not ready after {timeout}s ({ready_expr}); console: {self.console_errors}")

    def evaluate(self, expr: str) -> Any:
        """Evaluate a JavaScript expression in the page; returns its JSON value."""
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError(f"page script failed: {r['exceptionDetails'].get('exception', {}).get('description')}")
        return r["result"].get("value")

    def screenshot(self, path: str | os.PathLike[str], full_page: bool = True) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})  # fmt: skip
        data = base64.b64decode(self.call("Page.captureScreenshot", params)["data"])
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        return out
