"""The blind A/B page, played through in a real headless Chromium (Debian's chromium + chromium-driver via Selenium):
clicks become votes, the exported JSON tallies to exactly what was clicked, and the page never names a method."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import make_clip

from vidtoon.compare import CompareOptions, compare, tally
from vidtoon.compare.page import QUESTIONS
from vidtoon.errors import UsageError

LABELS = ("alpha", "bravo", "charlie")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("page")
    make_clip(folder / "source.mp4", 12, size=(64, 48))
    for value, label in zip((60, 120, 180), LABELS):
        make_clip(folder / f"{label}_result.mp4", [np.full((48, 64, 3), value, np.uint8)] * 12)
    results = [folder / f"{label}_result.mp4" for label in LABELS]
    return compare(results, folder / "page", source=folder / "source.mp4", options=CompareOptions(labels=LABELS, seed=3))


def test_page_is_self_contained_and_blind(page):
    names = sorted(p.relative_to(page).as_posix() for p in page.rglob("*") if p.is_file())
    assert names == [
        "app.js",
        "clips/m1.mp4",
        "clips/m2.mp4",
        "clips/m3.mp4",
        "clips/source.mp4",
        "index.html",
        "key.json",
        "study.js",
        "style.css",
    ]
    for name in ("index.html", "app.js", "style.css", "study.js"):
        text = (page / name).read_text()
        assert not re.search(r"https?://", text), f"{name} reaches the network"
        assert not any(label in text for label in LABELS), f"{name} names a method"
    key = json.loads((page / "key.json").read_text())
    assert sorted(entry["label"] for entry in key["methods"].values()) == sorted(LABELS)
    assert key["study"] in (page / "study.js").read_text()


def test_a_page_needs_two_results(page, tmp_path):
    with pytest.raises(UsageError, match="at least two results"):
        compare([page / "clips" / "m1.mp4"], tmp_path / "one", source=page / "clips" / "source.mp4")
    assert not (tmp_path / "one").exists()


def _browser(downloads: Path):
    selenium = pytest.importorskip("selenium")
    del selenium
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("Chromium or chromedriver is not installed (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1200,900",
        "--mute-audio",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


def test_clicks_become_votes_that_tally_to_the_clicks(page, tmp_path):
    from selenium.webdriver.common.by import By

    key = json.loads((page / "key.json").read_text())
    label_of = {method_id: entry["label"] for method_id, entry in key["methods"].items()}
    preference = {"alpha": 0, "bravo": 1, "charlie": 2}  # always pick alpha when shown, else bravo
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = _browser(downloads)
    try:
        driver.get((page / "index.html").as_uri())
        trials = len(LABELS) * (len(LABELS) - 1) // 2 * len(QUESTIONS)
        assert driver.find_element(By.ID, "progress").text == f"Trial 1 of {trials}"
        body = driver.find_element(By.TAG_NAME, "body").text
        assert not any(label in body for label in LABELS)
        assert driver.find_element(By.ID, "question").text in [text for _, text in QUESTIONS]
        clicked, sides = [], set()
        for trial in range(trials):
            assert driver.find_element(By.ID, "progress").text == f"Trial {trial + 1} of {trials}"
            left, right = (driver.find_element(By.ID, side).get_attribute("data-id") for side in ("left", "right"))
            videos = [v.get_attribute("data-id") for v in driver.find_elements(By.CSS_SELECTOR, ".pair video")]
            assert videos == [left, right]
            pick = "left" if preference[label_of[left]] < preference[label_of[right]] else "right"
            sides.add(pick)
            clicked.append(label_of[left if pick == "left" else right])
            if trial == 1:  # the clips decode in the browser (H.264 MP4): every video has a picture
                for _ in range(50):
                    states = driver.execute_script("return [...document.querySelectorAll('video')].map(v => v.readyState);")
                    if min(states) >= 2:
                        break
                    time.sleep(0.1)
                assert len(states) == 3 and min(states) >= 2, states
                driver.save_screenshot(str(tmp_path / "trial.png"))
            driver.find_element(By.ID, pick).click()
        assert driver.find_element(By.ID, "done").is_displayed()
        stored = driver.execute_script("return window.vidtoonVotes();")
        driver.find_element(By.ID, "export").click()
        for _ in range(100):
            saved = list(downloads.glob("votes-*.json"))
            if saved and not list(downloads.glob("*.crdownload")):
                break
            time.sleep(0.1)
        driver.save_screenshot(str(tmp_path / "done.png"))
    finally:
        driver.quit()
    assert (tmp_path / "trial.png").stat().st_size > 1000
    assert len(saved) == 1, "the export button saved no file"
    votes = json.loads(saved[0].read_text())
    assert votes["trials"] == stored["trials"] and votes["study"] == key["study"]
    assert len(votes["trials"]) == trials and sides == {"left", "right"}  # both sides were shown first at some point
    for vote, label in zip(votes["trials"], clicked):
        assert label_of[vote["choice"]] == label
        assert vote["choice"] == (vote["left"] if vote["side"] == "left" else vote["right"])
        assert sorted(vote["pair"]) == sorted([vote["left"], vote["right"]]) and vote["time"].endswith("Z")
    result = tally(saved, key=page / "key.json")
    for score in result.scores:
        expected = {"alpha": (2, 2, 1), "bravo": (1, 2, 2), "charlie": (0, 2, 3)}[score.method]
        if score.question == "all":
            expected = (expected[0] * 3, 6, expected[2])
        assert (score.wins, score.trials, score.rank) == expected, score
    assert {s.question for s in result.scores} == {"style", "flicker", "preference", "all"}


def test_a_page_of_stills_holds_pngs_and_force_replaces_it(tmp_path):
    import cv2

    for value, name in ((60, "a.png"), (200, "b.png"), (120, "src.png")):
        cv2.imwrite(str(tmp_path / name), np.full((30, 40, 3), value, np.uint8))
    results = [tmp_path / "a.png", tmp_path / "b.png"]
    out = compare(results, tmp_path / "page", source=tmp_path / "src.png", options=CompareOptions(seed=1))
    study = (out / "study.js").read_text()
    assert '"kind": "image"' in study and sorted(p.name for p in (out / "clips").iterdir()) == ["m1.png", "m2.png", "source.png"]
    key = json.loads((out / "key.json").read_text())
    for method_id, entry in key["methods"].items():  # each hidden id holds its own picture, unchanged (never enlarged)
        value = 60 if entry["label"] == "a" else 200
        assert np.abs(cv2.imread(str(out / "clips" / f"{method_id}.png")).astype(int) - value).max() <= 1
    (out / "clips" / "stale.png").write_bytes(b"old")
    compare(results, out, source=tmp_path / "src.png", force=True)
    assert sorted(p.name for p in (out / "clips").iterdir()) == ["m1.png", "m2.png", "source.png"]
    assert json.loads((out / "key.json").read_text())["study"] != key["study"]
