# Copyright (c) mmppm contributors. All rights reserved.
"""Driving the page in headless Chromium (selenium): used by the browser
test and by ``tools/misc/webui_screenshots.py`` (docs/webui.md)."""
import tempfile

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'


def chromium_driver(width: int = 1400, height: int = 2200):
    """A headless Debian Chromium (no network chatter, fresh profile)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage', '--disable-background-networking',
                '--disable-component-update', '--disable-sync',
                '--no-first-run', '--disable-quic',
                f'--window-size={width},{height}',
                f'--user-data-dir={tempfile.mkdtemp(prefix="chromium_")}'):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def message(driver) -> str:
    """The page's status line."""
    from selenium.webdriver.common.by import By
    return driver.find_element(By.CSS_SELECTOR, '#message').text


def upload(driver, elem_id: str, path: str) -> None:
    """Give a file to the upload component ``elem_id`` (a drop zone holds
    its file input; an upload button has it just before itself)."""
    from selenium.webdriver.common.by import By
    inputs = driver.find_elements(By.CSS_SELECTOR,
                                  f'#{elem_id} input[type=file]')
    if not inputs:
        inputs = driver.find_elements(
            By.XPATH, f'//*[@id="{elem_id}"]/preceding-sibling::'
            'input[@type="file"][1]')
    if not inputs:
        raise LookupError(f'no file input for #{elem_id}')
    inputs[0].send_keys(path)


def click_image_pixel(driver, x: float, y: float, scale: float) -> None:
    """Click the centre of image pixel ``(x, y)`` of the support picture,
    shown ``scale`` times enlarged (:func:`mmppm.webui.render.
    display_scale`); gradio centres the picture and never upscales it."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    img = driver.find_element(By.CSS_SELECTOR, '#support-canvas img')
    nw, nh, w, h = driver.execute_script(
        'const r = arguments[0].getBoundingClientRect(); return '
        '[arguments[0].naturalWidth, arguments[0].naturalHeight, r.width, '
        'r.height];', img)
    r = min(w / nw, h / nh, 1)
    dx = (w - nw * r) / 2 + ((x + 0.5) * scale - 0.5) * r
    dy = (h - nh * r) / 2 + ((y + 0.5) * scale - 0.5) * r
    ActionChains(driver).move_to_element_with_offset(img, int(
        round(dx - w / 2)), int(round(dy - h / 2))).click().perform()
