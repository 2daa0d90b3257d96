"""Issue 6: the course's widgets work where learners use them — JupyterLab in a real browser.

Kernel-side tests call the widgets' pure functions; they cannot see a missing front-end extension, a
"model not found" or a widget that renders nothing. These tests start JupyterLab (``conftest.py``), open a
copy of each course notebook in headless Chromium, run all cells with JupyterLab's own "Run All Cells"
command, then operate the widgets as a learner would (pick a preset in a dropdown; move a slider with the
keyboard) and check that what is drawn changes and that no error shows up.

Run: ``.venv/bin/pytest -m browser tests/browser -q``. Screenshots (and the server log) go to the git-ignored
``artifacts/browser/``. Needs Debian's ``chromium`` at /usr/bin/chromium (or ``OCRLAB_CHROMIUM``) and the
``playwright`` Python package; the browser Playwright downloads itself is not used.
"""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("OCRLAB_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.is_file():
    pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install -y chromium)",
                allow_module_level=True)
try:
    from playwright.sync_api import Page, expect
except ImportError:
    pytest.skip("browser tests need the 'playwright' Python package (pip install playwright)",
                allow_module_level=True)

pytestmark = pytest.mark.browser

RUN_ALL_TIMEOUT_S = 300  # a whole course notebook in quick mode on a 2-core CPU
WIDGET_TIMEOUT_MS = 30_000  # for a widget to render / react once its cell has run
OPEN_TIMEOUT_MS = 90_000  # JupyterLab's page plus a kernel start

ERROR_TEXTS = ("Error displaying widget", "model not found", "Failed to load model class",
               "Could not create a model", "Could not create view", "Click to show javascript error")

# --------------------------------------------------------------------------------------------------- helpers


_WIDGET_CELLS_JS = """() => {
    const w = window.jupyterapp.shell.currentWidget, found = [];
    w.content.widgets.forEach((c, index) => {
        if (c.model.type !== 'code') return;
        const outs = c.model.outputs.toJSON();
        if (!outs.some(o => o.data && o.data['application/vnd.jupyter.widget-view+json'])) return;
        const shown = [...c.node.querySelectorAll('.jp-OutputArea-output')].map(
            e => `[${e.getAttribute('data-mime-type') || 'widget view'}] ${e.innerText.trim().slice(0, 200)}`);
        found.push({index, source: c.model.sharedModel.getSource().slice(0, 80), shown});
    });
    return found;
}"""


def _context(page: Page, server) -> str:
    """What to show when something fails: output-area text, browser console errors, the server log."""
    try:
        outputs = page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output')]
            .map(e => `[${e.getAttribute('data-mime-type') || '?'}] ${e.innerText.trim()}`)
            .filter(t => t.length > 4).join('\\n---\\n')""")
    except Exception as exc:  # noqa: BLE001 - diagnostics only
        outputs = f"(could not read outputs: {exc})"
    try:
        plugin = page.evaluate("""() => {
            const a = window.jupyterapp, id = '@jupyter-widgets/jupyterlab-manager:plugin';
            return a ? `widget manager plugin registered=${a.hasPlugin(id)} activated=${a.isPluginActivated(id)}`
                     : 'no window.jupyterapp'; }""")
    except Exception as exc:  # noqa: BLE001
        plugin = f"(could not query plugins: {exc})"
    try:  # the cells whose output is a widget, and what the page shows for them
        widget_cells = "\n".join(
            f"cell {c['index']} ({c['source']!r}) is shown as: {' | '.join(c['shown']) or '(nothing)'}"
            for c in page.evaluate(_WIDGET_CELLS_JS)) or "(none)"
    except Exception as exc:  # noqa: BLE001
        widget_cells = f"(could not read cells: {exc})"
    seen: dict[str, int] = {}
    for msg in getattr(page, "console_messages_seen", []):
        seen[msg] = seen.get(msg, 0) + 1
    console = "\n".join(f"{m}" + (f"  (×{n})" if n > 1 else "") for m, n in list(seen.items())[-15:]) or "(none)"
    return (f"\n\nJupyterLab front end: {plugin}\n\nCells with a widget output:\n{widget_cells}"
            f"\n\nAll output areas (last 1500 characters):\n{outputs[-1500:] or '(none)'}"
            f"\n\nBrowser console errors/warnings:\n{console}"
            f"\n\nServer log (tail):\n{server.log_tail(25)}")


_CELLS_JS = """(texts) => {
    // One entry per code cell of the current notebook: execution count, tags, error outputs, widget errors.
    const w = window.jupyterapp.shell.currentWidget;
    return w.content.widgets.map((c, index) => {
        if (c.model.type !== 'code') return null;
        const errors = [];
        for (const el of c.node.querySelectorAll(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')) {
            const t = el.innerText;
            if (/Error|Traceback/.test(t)) errors.push('error/stderr output: ' + t.trim().slice(-1500));
        }
        // ipywidgets' error view (a widget whose model or view could not be created): expand it for the message
        for (const el of c.node.querySelectorAll('.jupyter-widgets-error-widget')) {
            if (el.classList.contains('icon-error') && el.parentElement) el.parentElement.click();
            errors.push('ipywidgets error view: ' + el.innerText.trim().slice(0, 800));
        }
        const out = c.node.querySelector('.jp-OutputArea');
        const t = out ? out.innerText : '';
        for (const s of texts) if (t.toLowerCase().includes(s.toLowerCase()))
            errors.push(`widget error "${s}": ` + t.trim().slice(0, 500));
        return {index, count: c.model.executionCount, tags: c.model.getMetadata('tags') || [],
                empty: c.model.sharedModel.getSource().trim() === '',
                source: c.model.sharedModel.getSource().slice(0, 80), errors};
    }).filter(x => x !== null);
}"""


def _cells(page: Page) -> list[dict]:
    return page.evaluate(_CELLS_JS, list(ERROR_TEXTS))


def _errors_on_page(page: Page) -> list[str]:
    """Error outputs (tracebacks, stderr with 'Error') and ipywidgets' own error messages ("Error displaying
    widget: model not found", ...) in any code cell, except cells tagged ``raises-exception`` (errors on purpose)."""
    return [f"cell {c['index']} ({c['source']!r}): {e}" for c in _cells(page)
            if "raises-exception" not in c["tags"] for e in c["errors"]]


def _log_console_errors(page: Page, rel_path: str) -> list[str]:
    """Errors raised in widget callbacks: JupyterLab shows them only in the notebook's Log Console (View → Show
    Log Console), not under any cell. Open it, as a learner who sees the status-bar log indicator would, and
    read the error-level entries (tracebacks, stderr)."""
    # callbacks triggered by the last interaction have finished once the kernel is idle
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
                           " === 'idle'", timeout=WIDGET_TIMEOUT_MS, polling=200)
    page.evaluate("(path) => window.jupyterapp.commands.execute('logconsole:open', {source: path})", rel_path)
    panel = page.locator(".jp-LogConsolePanel").first
    expect(panel).to_be_visible()
    # the panel attaches to the notebook's logger asynchronously: its log-level picker is disabled until then
    page.wait_for_function("() => !!document.querySelector('.jp-LogConsole-toolbarLogLevel')"
                           " && !document.querySelector('.jp-LogConsole-toolbarLogLevel-disabled')",
                           timeout=WIDGET_TIMEOUT_MS, polling=100)
    time.sleep(0.5)  # let the logged outputs render
    return page.evaluate("""() => [...document.querySelectorAll('.jp-LogConsolePanel .jp-OutputArea-output')]
        .map(e => e.innerText.trim()).filter(t => /Error|Traceback/.test(t))
        .map(t => 'Log Console: ' + (t.length > 1200 ? t.slice(0, 200) + ' […] ' + t.slice(-800) : t))""")


def _open_notebook(page: Page, server, rel_path: str) -> None:
    """Open a notebook in JupyterLab and wait until it is the current tab with an idle kernel."""
    page.goto(server.lab_url(rel_path), wait_until="domcontentloaded", timeout=OPEN_TIMEOUT_MS)
    name = rel_path.rsplit("/", 1)[-1]
    deadline = time.monotonic() + OPEN_TIMEOUT_MS / 1000
    while True:
        state = page.evaluate(
            """(name) => {
                const app = window.jupyterapp;
                if (!app || !app.shell) return 'loading';
                // a "Select Kernel" (or any) dialog blocks the notebook: report it
                const dlg = document.querySelector('.jp-Dialog');
                if (dlg) return 'dialog:' + dlg.innerText.slice(0, 200);
                const w = app.shell.currentWidget;
                if (!w || !w.context || !w.context.path.endsWith(name)) return 'no notebook';
                const k = w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
                if (!k) return 'no kernel';
                return 'kernel:' + k.status;
            }""",
            name,
        )
        if state == "kernel:idle":
            return
        if state.startswith("dialog:"):
            # e.g. a notebook stored without metadata.kernelspec: accept the default kernel as a learner would
            page.locator(".jp-Dialog .jp-mod-accept").first.click()
        if time.monotonic() > deadline:
            pytest.fail(f"{rel_path} did not open with an idle kernel within {OPEN_TIMEOUT_MS // 1000} s "
                        f"(last state: {state!r}).{_context(page, server)}", pytrace=False)
        time.sleep(0.5)


def _run_all_cells(page: Page, server, rel_path: str) -> None:
    """Run → Run All Cells (the same JupyterLab command the menu calls) and wait until every code cell has run
    and the kernel is idle again, or a cell failed (JupyterLab then skips the cells after it)."""
    t0 = time.monotonic()
    page.evaluate("""() => {
        window.__ocrlabRunAll = {done: false, ok: null, error: null};
        window.jupyterapp.commands.execute('notebook:run-all-cells')
            .then(ok => { window.__ocrlabRunAll.ok = ok; })
            .catch(e => { window.__ocrlabRunAll.error = String(e); })
            .finally(() => { window.__ocrlabRunAll.done = true; });
    }""")
    deadline = t0 + RUN_ALL_TIMEOUT_S
    while True:
        status = page.evaluate("""() => [window.__ocrlabRunAll.done,
            window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status]""")
        cells = _cells(page)
        missing = [f"cell {c['index']} ({c['source']!r})" for c in cells if c["count"] is None and not c["empty"]]
        errors = _errors_on_page(page)
        if status == [True, "idle"] and (not missing or errors):
            break
        if time.monotonic() > deadline:
            pytest.fail(f"Run All Cells of {rel_path} did not finish within {RUN_ALL_TIMEOUT_S} s (command done, "
                        f"kernel status: {status}; cells not run yet: {missing[:5]}).{_context(page, server)}",
                        pytrace=False)
        time.sleep(0.5)
    result = page.evaluate("window.__ocrlabRunAll")
    print(f"Run All Cells of {rel_path}: {time.monotonic() - t0:.1f} s")
    tagged = any("raises-exception" in c["tags"] for c in cells)
    # JupyterLab reports ok=false when any cell errs, also one tagged raises-exception (it then runs on)
    assert not errors and not missing and not result["error"] and (result["ok"] is True or tagged), (
        f"Running all cells of {rel_path} in JupyterLab failed (command result {result}); errors: {errors}; "
        f"cells not run: {missing[:5]}{_context(page, server)}")


def _wait_rendered(page: Page, server, selector: str, what: str):
    loc = page.locator(selector).first
    try:
        expect(loc).to_be_visible(timeout=WIDGET_TIMEOUT_MS)
        rendered = True
    except AssertionError:  # Playwright's message (a whole ARIA snapshot) says less than ours below
        rendered = False
    if not rendered:
        try:  # show the widget cell's fallback output in the failure screenshot
            page.evaluate("""() => { const c = window.jupyterapp.shell.currentWidget.content.widgets.find(
                c => c.model.type === 'code' && c.model.outputs.toJSON().some(
                    o => o.data && o.data['application/vnd.jupyter.widget-view+json']));
                if (c) c.node.scrollIntoView(); }""")
        except Exception:  # noqa: BLE001 - best effort
            pass
        pytest.fail(
            f"The {what} ({selector}) never rendered in the browser within {WIDGET_TIMEOUT_MS // 1000} s after "
            f"Run All Cells. The kernel created it, so the front end could not display it: is the ipywidgets "
            f"front-end extension @jupyter-widgets/jupyterlab-manager installed and enabled "
            f"(`jupyter labextension list`)?{_context(page, server)}", pytrace=False)
    loc.scroll_into_view_if_needed()
    return loc


def _image_digest(page: Page, output_selector: str) -> str:
    """SHA-256 of the pixels of every loaded <img> in the output area ('' while none is loaded).

    Pixels are read through a canvas in one synchronous step: ipywidgets revokes an Image's old blob: URL as
    soon as a new value arrives, so fetching the URL later can fail.
    """
    data = page.evaluate(
        """(sel) => {
            const root = document.querySelector(sel);
            if (!root) return [];
            const imgs = root.matches('img') ? [root] : [...root.querySelectorAll('img')];
            return imgs.filter(i => i.complete && i.naturalWidth > 0).map(i => {
                const c = document.createElement('canvas');
                c.width = i.naturalWidth; c.height = i.naturalHeight;
                c.getContext('2d').drawImage(i, 0, 0);
                return c.toDataURL('image/png');
            });
        }""",
        output_selector,
    )
    return hashlib.sha256("|".join(data).encode()).hexdigest() if data else ""


def _poll(fn, timeout_s: float, interval_s: float = 0.25):
    """Call fn until it returns something truthy or the time is up; returns the last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval_s)


# ----------------------------------------------------------------------------------------------------- tests


def test_kernel_explorer_preset_redraws(page: Page, lab, artifacts_dir):
    nb = "notebooks/01_convolution.ipynb"
    _open_notebook(page, lab, nb)
    _run_all_cells(page, lab, nb)

    explorer = _wait_rendered(page, lab, ".ocrlab-kernel-explorer", "kernel explorer")
    out_sel = ".ocrlab-kernel-explorer .ocrlab-kernel-output"
    before = _poll(lambda: _image_digest(page, out_sel), WIDGET_TIMEOUT_MS / 1000)
    assert before, f"The kernel explorer shows no image in {out_sel}.{_context(page, lab)}"
    explorer.screenshot(path=str(artifacts_dir / "kernel_explorer_before.png"))

    select = explorer.locator(".ocrlab-kernel-preset select").first
    expect(select).to_be_visible()
    current = select.input_value()
    options = [o.strip() for o in select.locator("option").all_inner_texts()]
    presets = [o for o in options if o not in (current, "custom")]  # 'custom' keeps the current kernel
    assert presets, f"the Preset dropdown offers {options}; need another preset to switch to"
    target = presets[0]
    select.select_option(label=target)  # what a learner's click on an option does: a DOM change event

    after = _poll(lambda: (d := _image_digest(page, out_sel)) and d != before and d, WIDGET_TIMEOUT_MS / 1000)
    assert after and after != before, (
        f"Choosing preset {target!r} (was {current!r}) did not change the kernel explorer's image within "
        f"{WIDGET_TIMEOUT_MS // 1000} s.{_context(page, lab)}")
    time.sleep(0.5)  # let the new image paint before the screenshot
    explorer.screenshot(path=str(artifacts_dir / "kernel_explorer_after.png"))
    assert select.input_value() == target
    page.screenshot(path=str(artifacts_dir / "kernel_explorer_page.png"))
    errors = _errors_on_page(page) + _log_console_errors(page, nb)
    assert not errors, f"errors after changing the preset: {errors}{_context(page, lab)}"


def test_output_size_calculator_slider_updates(page: Page, lab, artifacts_dir):
    nb = "notebooks/02_output_size.ipynb"
    _open_notebook(page, lab, nb)
    _run_all_cells(page, lab, nb)

    calc = _wait_rendered(page, lab, ".ocrlab-outsize-calculator", "output-size calculator")
    result = calc.locator(".ocrlab-outsize-result").first
    expect(result).to_be_visible()
    labels = calc.locator(".widget-slider .widget-label").all_inner_texts()
    for name in ("input", "kernel", "stride", "padding", "dilation"):
        assert any(name in lbl for lbl in labels), f"no slider labelled {name!r} in the calculator (labels: {labels})"
    before_text = _poll(lambda: result.inner_text().strip(), 5)
    assert before_text, "the calculator's result is empty"
    img_sel = ".ocrlab-outsize-calculator"
    before_img = _poll(lambda: _image_digest(page, img_sel), 5)  # its drawing, if it has one
    calc.screenshot(path=str(artifacts_dir / "outsize_calculator_before.png"))

    stride = calc.locator(".ocrlab-outsize-stride").first
    handle = stride.locator(".noUi-handle").first
    readout = stride.locator(".widget-readout").first
    start_value = readout.inner_text().strip()
    # a learner tabs to the slider and presses an arrow key; step up (or down from the maximum) until the result
    # changes, at most a few steps
    at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    key = "ArrowLeft" if at_max else "ArrowRight"
    after_text = ""
    for _ in range(4):
        value = readout.inner_text().strip()
        handle.focus()
        handle.press(key)
        moved = _poll(lambda: readout.inner_text().strip() != value, 5)
        assert moved, (f"pressing {key} on the focused stride slider did not move it (readout stays {value!r})"
                       f"{_context(page, lab)}")
        after_text = _poll(lambda: (t := result.inner_text().strip()) != before_text and t, 10)
        if after_text:
            break
    assert after_text, (
        f"moving the stride slider from {start_value} to {readout.inner_text().strip()} did not change the "
        f"calculator's result (still {before_text!r}) within 10 s per step.{_context(page, lab)}")
    if before_img:  # the drawing follows the numbers
        after_img = _poll(lambda: (d := _image_digest(page, img_sel)) != before_img and d, 10)
        assert after_img, f"the calculator's drawing did not change with the stride.{_context(page, lab)}"
    time.sleep(0.3)
    calc.screenshot(path=str(artifacts_dir / "outsize_calculator_after.png"))
    print(f"stride {start_value} -> {readout.inner_text().strip()}: {before_text!r} -> {after_text!r}")
    page.screenshot(path=str(artifacts_dir / "outsize_calculator_page.png"))
    errors = _errors_on_page(page) + _log_console_errors(page, nb)
    assert not errors, f"errors after moving the slider: {errors}{_context(page, lab)}"
