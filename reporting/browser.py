"""Debian's headless Chromium through Selenium: the results page's test and its README screenshot.
Browsers cannot be downloaded on the build machine, so only the system's chromium and
chromedriver are used (`make setup` installs them with apt-get)."""

import shutil


class NoBrowser(RuntimeError):
    """Selenium, chromium or chromedriver is missing; the message says which and how to get it."""


def chromium(width=1200, height=900):
    """A Selenium WebDriver on the system's headless Chromium; the caller quits it."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        raise NoBrowser("selenium is not installed (pip install -e '.[test]', or make setup)") from error
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        raise NoBrowser(
            "no chromium / chromedriver here: `make setup` installs Debian's chromium and chromium-driver"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def load_all_images(driver):
    """[(src, natural width)] of every image on the page once decoded (lazy ones forced to load);
    a broken or missing image has width 0."""
    return driver.execute_script(
        "return Promise.all(Array.from(document.images).map(i => { i.loading = 'eager'; "
        "return i.decode().then(() => [i.getAttribute('src'), i.naturalWidth], "
        "() => [i.getAttribute('src'), 0]); }));"
    )
