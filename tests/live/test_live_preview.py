"""The preview page of `vidtoon live --preview` in a real headless Chromium (Debian's `chromium` + `chromium-driver`)."""

from __future__ import annotations

import io
import json
import shutil
import threading
import time
import urllib.request
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from vidtoon.live import LiveOptions, live

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run installs them)"
)


def still_clip(path: Path, seconds: int = 60, size: tuple[int, int] = (160, 120)) -> Path:
    """A clip of one textured picture (stripes and blocks of colour): every frame the same, so what the page shows
    can be compared with what the server sends at any moment."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    picture = np.stack([(x * 255 // width), (y * 255 // height), ((x // 20 + y // 20) % 2) * 200 + 30], axis=-1).astype(np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "12"}
        for i in range(seconds * 25):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """A live run of the still clip, `sketch` style, preview on a free port; stopped at the end."""
    folder = tmp_path_factory.mktemp("preview")
    source = still_clip(folder / "still.mp4")
    ready, stop, result = threading.Event(), threading.Event(), {}

    def run() -> None:
        result["report"] = live(
            str(source),
            None,
            style="sketch",
            settings={"consistency": "none"},
            live_options=LiveOptions(realtime=True, preview=True, port=0),
            on_ready=lambda url: (result.update(url=url), ready.set()),
            stop=stop,
        )

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(120), "the live run did not start"
    yield result["url"], folder
    stop.set()
    thread.join(timeout=60)
    assert result["report"].stopped_by == "request"


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.read()


def picture(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def element_picture(driver, element_id: str, size: tuple[int, int]) -> np.ndarray:
    shot = driver.find_element("id", element_id).screenshot_as_png
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB").resize(size, Image.BILINEAR), dtype=np.int16)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,600"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def wait_until(check, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_the_page_shows_the_restyled_stream_and_its_numbers(running, browser):
    url, folder = running
    browser.get(url)
    wait_until(lambda: "fps" in browser.find_element("id", "stats").text)
    wait_until(lambda: browser.execute_script("return document.getElementById('output').naturalWidth") > 0)
    time.sleep(1.0)
    browser.save_screenshot(str(folder / "preview.png"))
    sent_output, sent_input = picture(fetch(url + "output.jpg")), picture(fetch(url + "input.jpg"))
    size = (sent_output.shape[1], sent_output.shape[0])
    shown_output, shown_input = element_picture(browser, "output", size), element_picture(browser, "input", size)
    assert np.abs(shown_output - sent_output).mean() < 10, "the page shows the restyled stream"
    assert np.abs(shown_input - sent_input).mean() < 10, "and the input beside it"
    assert np.abs(shown_output - shown_input).mean() > 25, "the restyled picture is not the input"
    stats = json.loads(fetch(url + "stats"))
    assert stats["restyled"] > 0 and stats["fps"] > 0 and stats["style"] == "sketch" and "toon" in stats["styles"]
    text = browser.find_element("id", "stats").text
    assert "latency" in text and "dropped" in text


def test_moving_the_slider_changes_the_output(running, browser):
    from selenium.webdriver.common.keys import Keys

    url, folder = running
    browser.get(url)
    wait_until(lambda: browser.execute_script("return document.getElementById('output').naturalWidth") > 0)
    size = picture(fetch(url + "output.jpg")).shape[1::-1]
    before = element_picture(browser, "output", size)
    browser.find_element("id", "mix").send_keys(Keys.HOME)  # the slider to 0: the input only
    wait_until(lambda: json.loads(fetch(url + "stats"))["mix"] == 0)
    time.sleep(1.0)
    after, shown_input = element_picture(browser, "output", size), element_picture(browser, "input", size)
    browser.save_screenshot(str(folder / "preview-mix-0.png"))
    assert np.abs(after - before).mean() > 25, "the output changed"
    assert np.abs(after - shown_input).mean() < 10, "to the input"


def test_the_style_picker_switches_the_style(running, browser):
    from selenium.webdriver.support.ui import Select

    url, folder = running
    browser.get(url)
    wait_until(lambda: len(Select(browser.find_element("id", "style")).options) > 1)
    urllib.request.urlopen(
        urllib.request.Request(url + "control", data=b'{"mix": 1}', method="POST", headers={"Content-Type": "application/json"}),
        timeout=10,
    ).read()
    time.sleep(1.0)
    sketch = picture(fetch(url + "output.jpg"))
    Select(browser.find_element("id", "style")).select_by_value("toon")
    wait_until(lambda: json.loads(fetch(url + "stats"))["style"] == "toon")
    time.sleep(1.5)
    toon = picture(fetch(url + "output.jpg"))
    browser.save_screenshot(str(folder / "preview-toon.png"))
    assert saturation(sketch) < 30, "sketch: pencil on paper"
    assert saturation(toon) > saturation(sketch) + 30, "toon keeps the still's colours"


def saturation(rgb: np.ndarray) -> float:
    """Mean (max - min) over the channels: 0 for greys."""
    return float((rgb.max(axis=-1) - rgb.min(axis=-1)).mean())
