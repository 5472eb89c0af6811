"""The runs dashboard in a real browser (Debian's headless Chromium driven by Selenium): it
shows the runs with their per-node costs and the graph's diagram, and approving a document
that needs review with a fixed field changes the database. The screenshot is kept in
test-artifacts/dashboard.png (its path is printed)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from .service_fixtures import KEY, Served, kiosk_receipt, serve

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from serve(tmp_path)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("Debian's chromium and chromium-driver are needed (.ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,1600"):
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=DriverService(executable_path=driver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


def test_the_dashboard_shows_runs_and_approving_a_fixed_document_writes_it(
        served: Served, browser: webdriver.Chrome, tmp_path: Path) -> None:
    with kiosk_receipt(tmp_path / "kiosk.png").open("rb") as handle:
        uploaded = httpx.post(f"{served.url}/v1/ocr-to-sql", headers=served.headers,
                              files={"files": ("kiosk.png", handle, "image/png")}, timeout=120)
    assert uploaded.json()[0]["status"] == "needs_review"

    wait = WebDriverWait(browser, 20)
    browser.get(served.url + "/")
    browser.find_element(By.ID, "key").send_keys(KEY)
    browser.find_element(By.ID, "connect").click()
    run_row = wait.until(ready.presence_of_element_located(
        (By.CSS_SELECTOR, "#runs tbody tr[data-run]")))
    assert "ocr_to_sql" in run_row.text and "interrupted" in run_row.text
    assert browser.find_elements(By.CSS_SELECTOR, "#plot svg polyline")

    run_row.click()
    wait.until(ready.visibility_of_element_located((By.ID, "detail")))
    node = wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#nodes tbody tr")))
    assert node.text.split()[:2] == ["extract", "1"]  # one model call, in the extract node
    diagram = wait.until(ready.presence_of_element_located(
        (By.CSS_SELECTOR, "#diagram svg g[data-node='review']")))
    assert diagram.is_displayed()

    review = browser.find_element(By.CSS_SELECTOR, "#reviews tbody tr[data-doc]")
    assert "kiosk.png" in review.text
    currency = review.find_element(By.NAME, "currency")
    currency.clear()
    currency.send_keys("SEK")
    review.find_element(By.CSS_SELECTOR, "button.approve").click()
    wait.until(ready.text_to_be_present_in_element((By.ID, "message"), "approved"))

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    browser.save_screenshot(str(shot))
    print(f"dashboard screenshot: {shot}")
    with sqlite3.connect(served.docs_db) as connection:
        row = connection.execute("SELECT currency, status FROM documents").fetchone()
        review_row = connection.execute(
            "SELECT decision, corrected FROM document_reviews").fetchone()
    assert row == ("SEK", "approved")
    assert review_row == ("approved", '{"currency": "SEK"}')
    assert not browser.find_elements(By.CSS_SELECTOR, "#reviews tbody tr[data-doc]")
