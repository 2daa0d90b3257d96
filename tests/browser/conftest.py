"""Fixtures for the browser tests: a throwaway JupyterLab server and a headless Chromium driven by Playwright.

Everything started here is stopped in ``finally`` blocks, also when a test fails or is interrupted:
the server runs in its own process group (killed as a group), and the kernels it starts (which jupyter_client
puts in sessions of their own) are recorded from ``/proc`` and killed if the server left them behind.

Playwright is imported inside the fixtures so that this file imports cleanly where it is not installed; the
test module then skips with a reason.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "artifacts" / "browser"
CHROMIUM = Path(os.environ.get("OCRLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # needed as root (CI containers)
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, n: int = 40) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"(no server log: {exc})"
    return "\n".join(lines[-n:])


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc; empty elsewhere)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _die_with_parent() -> None:
    """In the server's child process: get SIGTERM when pytest dies, even by SIGKILL (Linux prctl), so that a
    killed CI job leaves no server behind; JupyterLab stops its kernels on SIGTERM."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is dead for our purposes
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class LabServer:
    def __init__(self, url: str, token: str, root: Path, log: Path, proc: subprocess.Popen):
        self.url, self.token, self.root, self.log, self.proc = url, token, root, log, proc

    def api(self, path: str, method: str = "GET", timeout: float = 5) -> dict:
        req = urllib.request.Request(self.url + path, method=method, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else {}

    def lab_url(self, rel_path: str) -> str:
        # ?reset: start from an empty layout instead of reopening the previous test's tabs
        return f"{self.url}/lab/tree/{rel_path}?reset&token={self.token}"

    def shutdown_kernels(self) -> None:
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", method="DELETE", timeout=30)

    def log_tail(self, n: int = 40) -> str:
        return _tail(self.log, n)


def _stop_server(proc: subprocess.Popen, server: LabServer | None) -> None:
    """Graceful shutdown (kernels too), then SIGTERM/SIGKILL to the process group, then any orphaned kernel."""
    kernels = set(_children(proc.pid))
    if proc.poll() is None and server is not None:
        try:
            server.api("/api/shutdown", method="POST")
        except (OSError, urllib.error.URLError):
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass
    # the server's group is gone; kill whatever is left of it and of the kernels' own sessions
    for pid in kernels:
        if _alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory, artifacts_dir):
    """JupyterLab on a free loopback port with a random token, serving a temporary copy of ``notebooks/``.

    The copy keeps the real notebooks untouched (JupyterLab autosaves executed notebooks). ``OCRLAB_QUICK=1``
    is set for the kernels so course notebooks run in their quick sizes.
    """
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    shutil.copytree(NOTEBOOKS, root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for d in ("settings", "workspaces", "runtime", "config"):
        (base / d).mkdir()
    # no "Would you like to get notified about official Jupyter news?" toast over the widgets
    notification = base / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # keep every cell attached to the page (the default windowing may detach or skip painting off-screen cells)
    tracker = base / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    log = base / "jupyterlab.log"
    port, token = _free_port(), secrets.token_urlsafe(24)
    env = dict(os.environ)
    env.update(
        OCRLAB_QUICK="1",
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        PYTHONUNBUFFERED="1",
    )
    # An isolated config dir unless the caller chose one (the broken-front-end check points it at a config that
    # disables the widget manager).
    env.setdefault("JUPYTER_CONFIG_DIR", str(base / "config"))
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--allow-root",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run cells via JupyterLab's own commands
        f"--LabApp.user_settings_dir={base / 'settings'}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]
    url = f"http://127.0.0.1:{port}"
    server = None
    with open(log, "wb") as log_fh:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log_fh,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    try:
        server = LabServer(url, token, root, log, proc)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode} before answering on {url}.\n"
                            f"Server log (tail):\n{server.log_tail()}", pytrace=False)
            try:
                server.api("/api/status", timeout=2)
                break
            except (OSError, urllib.error.URLError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer {url}/api/status within {SERVER_START_TIMEOUT_S} s.\n"
                            f"Server log (tail):\n{server.log_tail()}", pytrace=False)
            time.sleep(0.5)
        yield server
    finally:
        _stop_server(proc, server)
        try:
            shutil.copyfile(log, artifacts_dir / "jupyterlab.log")
        except OSError:
            pass


@pytest.fixture
def lab(lab_server):
    """The session's JupyterLab server; the kernels a test started are shut down after it."""
    try:
        yield lab_server
    finally:
        if lab_server.proc.poll() is None:
            try:
                lab_server.shutdown_kernels()
            except (OSError, urllib.error.URLError, ValueError):
                pass


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


@pytest.fixture
def page(browser, lab, request, artifacts_dir):
    """A fresh browser context and page; on failure a full-page screenshot goes to artifacts/browser/."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    console: list[str] = []
    pg.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    pg.console_messages_seen = console  # read by the tests for failure messages
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is None or rep.failed:
            try:
                pg.screenshot(path=str(artifacts_dir / f"FAILED-{request.node.name}.png"), full_page=True)
            except Exception:  # noqa: BLE001 - best effort; never mask the real failure
                pass
        context.close()
