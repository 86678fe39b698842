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
        shot = tmp_path / "live.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 5000
        assert int(driver.execute_script("return window.liveMap.state.step")) > 0
        assert driver.execute_script("return window.liveMap.error") is None
    finally:
        driver.quit()
