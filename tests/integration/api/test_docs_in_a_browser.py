"""The product service's /docs in a real browser: Debian's Chromium, headless, via ChromeDriver.

As a person would: open the page, sign in through Swagger UI's Authorize button with a
test user's token, run `GET /products` from the page and read the 200 it shows. The
page is saved as a picture in var/screenshots/ to look at.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from tests.integration.api.conftest import Caller
from tests.security.conftest import Services
from tests.support.client import DEFAULT_PASSWORD, ShopClient, login

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
WAIT_SECONDS = 60  # a busy 2-core machine: generous, and only the upper bound


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    for path in (CHROMIUM, CHROMEDRIVER):
        assert Path(path).exists(), f"{path} missing: `make install` installs Debian's chromium"
    with tempfile.TemporaryDirectory(prefix="shop-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                     "--window-size=1280,1600"):
            options.add_argument(flag)
        # The driver is given: Selenium Manager would try to download one.
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        try:
            yield driver
        finally:
            driver.quit()


def visible(driver: WebDriver, css: str, within: WebElement | None = None) -> WebElement:
    root = within or driver
    return WebDriverWait(driver, WAIT_SECONDS).until(
        lambda _: next((e for e in root.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()),
                       None),
        message=f"nothing visible matches {css!r}")


def test_a_user_signs_in_on_the_docs_page_and_lists_products(
    browser: WebDriver, services: Services, enduser: Caller, user_service: ShopClient, new_product,
) -> None:
    product = new_product(name="Docs page teapot")
    # A real sign-in: the token the user service gives this test user.
    token = login(user_service, enduser.email, DEFAULT_PASSWORD)
    browser.get(services.product.base_url + "/docs")
    title = visible(browser, ".information-container .title")
    assert "product service" in title.text

    visible(browser, "button.authorize").click()
    dialog = visible(browser, ".modal-ux")
    section = next(s for s in dialog.find_elements(By.CSS_SELECTOR, ".auth-container")
                   if "userToken" in s.text)
    section.find_element(By.CSS_SELECTOR, "input").send_keys(token)
    section.find_element(By.CSS_SELECTOR, "button.authorize").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda _: "Logout" in section.text, message="the token was not taken")
    visible(browser, "button.btn-done", dialog).click()

    operation = visible(browser, "#operations-products-list_products")
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    visible(browser, "button.try-out__btn", operation).click()
    visible(browser, "button.execute", operation).click()
    status = WebDriverWait(browser, WAIT_SECONDS).until(seen.visibility_of_element_located(
        (By.CSS_SELECTOR, "#operations-products-list_products .live-responses-table "
                          "tbody .response-col_status")))
    # The request the page sent carried the token: without it the answer is a 401.
    assert status.text.strip() == "200", status.text
    body = operation.find_element(By.CSS_SELECTOR,
                                  ".live-responses-table tbody .response-col_description")
    assert '"items"' in body.text and "x-cache" in body.text.lower()
    assert product["id"] in body.text or '"next_cursor": "' in body.text
    curl = operation.find_element(By.CSS_SELECTOR, ".curl-command").text
    assert f"Authorization: Bearer {token}" in curl

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.execute_script("arguments[0].scrollIntoView()", operation)
    shot = SCREENSHOTS / "product-docs-get-products.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_the_docs_page_asked_for_with_a_trailing_slash_shows_the_api_too(
    browser: WebDriver, services: Services,
) -> None:
    # `/docs/` is the same route; the page's relative links must still reach its files and
    # the document (they resolved to `/docs/docs/static/…` once, a 403: a blank page).
    browser.get(services.product.base_url + "/docs/")
    title = visible(browser, ".information-container .title")
    assert "product service" in title.text
    visible(browser, "#operations-products-list_products")
    assert browser.current_url == services.product.base_url + "/docs/"
