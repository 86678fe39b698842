"""``--live-map``: a real training run on the test world serves its page on 127.0.0.1; Debian's headless
Chromium (through chromedriver) loads it, and the test checks that the env markers move over the painted map,
that the milestones the run reaches appear on the page, and takes a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
except ImportError:
    selenium = None
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER and selenium),
                                reason="needs Debian's chromium and chromium-driver and the selenium package "
                                       "(CI installs them)")

TINY = ["--hidden-size", "32", "--cnn-channels", "4", "8", "8", "--cnn-features", "32", "--map-embedding", "4",
        "--ram-hidden", "16"]


@pytest.fixture
def live_run(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "pokerl_fast.train", "--run-dir", str(tmp_path / "run"),
                             "--num-envs", "8", "--total-steps", "200000", "--no-progress", "--live-map", "0", *TINY],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = None
    deadline = time.monotonic() + 120
    while url is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("live map: "):
            url = line.split(": ", 1)[1].strip()
    try:
        assert url and url.startswith("http://127.0.0.1:"), "the trainer announced no live map on 127.0.0.1"
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=120)


def test_the_live_page_shows_moving_markers_and_milestones_in_chromium(live_run, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_AVOID_STATS"] = "true"  # Selenium sends no usage statistics
    assert urllib.request.urlopen(live_run + "state.json", timeout=10).status == 200
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=900,700"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        driver.get(live_run)

        def wait_for(script: str, seconds: float):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                value = driver.execute_script(script)
                if value:
                    return value
                time.sleep(0.25)
            raise AssertionError(f"timed out waiting for {script}")

        wait_for("return window.liveMap.polls > 2 && window.liveMap.markers", 60)
        first = driver.execute_script("return window.liveMap.markers")
        assert len(first) == 8 and any(m is not None for m in first)
        assert driver.execute_script("return document.getElementById('map').naturalWidth") > 40  # the painted map
        end = time.monotonic() + 30
        later = first
        while later == first and time.monotonic() < end:  # the envs walk: the page moves their markers
            time.sleep(0.25)
            later = driver.execute_script("return window.liveMap.markers")
        assert later != first, "no marker moved in 30 s"
        # The test world's first trigger is reached by untrained envs within a few thousand steps.
        text = wait_for("const t = document.getElementById('milestones').innerText;"
                        "return t.includes('EVENT_') ? t : null", 240)
        assert "step" in text
        # The map fills the page's view (fitted), zooms about the view's centre and follows one env.
        rect = "const r = document.getElementById('map').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]"
        view = driver.execute_script("const v = document.getElementById('view'); return [v.clientWidth, v.clientHeight]")
        assert view[0] > 0.6 * 900
        x, y, w, h = driver.execute_script(rect)
        assert w >= 0.95 * view[0] or h >= 0.95 * view[1]  # fitted: one side spans the view
        driver.execute_script("window.liveMap.zoomBy(2)")
        x2, y2, w2, h2 = driver.execute_script(rect)
        assert abs(w2 / w - 2) < 0.01 and abs((x2 + w2 / 2) - view[0] / 2) <= abs((x + w / 2) - view[0] / 2) * 2 + 2
        follow = next(i for i, m in enumerate(driver.execute_script("return window.liveMap.markers")) if m)
        driver.execute_script(f"window.liveMap.followEnv({follow})")
        wait_for(f"return window.liveMap.view.follow === {follow}", 5)
        time.sleep(0.6)  # a poll or two
        marker, v = driver.execute_script(f"return [window.liveMap.markers[{follow}], window.liveMap.view]")
        if marker:  # the followed env's marker sits at the view's centre
            assert abs(v["tx"] + marker[0] * v["z"] - view[0] / 2) < 2 and abs(v["ty"] + marker[1] * v["z"] - view[1] / 2) < 2
        trails = driver.execute_script("return window.liveMap.state.trails")
        assert trails and len(trails) == 8 and any(t for t in trails)  # the run's own per-step trails
        shot = tmp_path / "live.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 5000
        assert int(driver.execute_script("return window.liveMap.state.step")) > 0
        assert driver.execute_script("return window.liveMap.error") is None
    finally:
        driver.quit()
