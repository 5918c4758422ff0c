"""The web page in a real browser: headless Chromium driven by selenium.

Starts ``demo/webui.py`` with the bundled toy diffusion model on a free
localhost port, uploads a toy support image, clicks three keypoints,
uploads a query, presses Run and checks that the result picture and
``predictions.json`` appear and that the JSON's keypoints are what
:func:`mmppm.apis.inference_cape` returns for the same support.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``webui``
extra (``tools/install.sh`` installs all three). Skipped with the reason
when they are absent, unless ``MMPPM_REQUIRE_BROWSER=1`` (set by CI), which
turns the skip into a failure.
"""
import json
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/ppm/ppm_toy-sd_1shot_toy.py'
SUPPORT = 'toy_cat80/toy_cat80_0.jpg'
QUERY = 'toy_cat80/toy_cat80_1.jpg'
# three of the support's annotated keypoints (kp1..kp3 of the toy file)
CLICKS = [(69.27, 49.71), (92.84, 36.7), (66.4, 107.56)]


def _missing() -> list:
    from mmppm.webui.browser import CHROMEDRIVER, CHROMIUM
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not osp.exists(p)]
    for module in ('gradio', 'selenium'):
        try:
            __import__(module)
        except ImportError:
            missing.append(f'python package {module}')
    return missing


@pytest.fixture(scope='module')
def browser_ready():
    missing = _missing()
    if missing:
        msg = (f'web page browser test needs {", ".join(missing)}: run '
               'tools/install.sh (installs Debian chromium, chromium-driver '
               'and requirements/webui.txt)')
        if os.environ.get('MMPPM_REQUIRE_BROWSER'):
            pytest.fail(msg)
        pytest.skip(msg)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def server(browser_ready, toy_default_root, tmp_path_factory):
    examples = tmp_path_factory.mktemp('examples')
    shutil.copy(osp.join(toy_default_root, 'images', QUERY), examples)
    port = _free_port()
    log = open(tmp_path_factory.mktemp('log') / 'webui.log', 'w+')
    proc = subprocess.Popen([
        sys.executable, 'demo/webui.py', CONFIG, '--port',
        str(port), '--examples',
        str(examples)
    ],
                            cwd=REPO,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                            env=dict(os.environ, HF_HUB_OFFLINE='1'))
    url = f'http://127.0.0.1:{port}/'
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(1)
    else:
        proc.kill()
    if proc.poll() is not None:
        log.seek(0)
        pytest.fail(f'demo/webui.py did not start:\n{log.read()[-3000:]}')
    yield url
    proc.terminate()
    proc.wait(30)
    log.close()


@pytest.fixture(scope='module')
def driver(browser_ready):
    from mmppm.webui.browser import chromium_driver
    drv = chromium_driver()
    yield drv
    drv.quit()


def test_annotate_run_and_download(server, driver, toy_default_root, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from mmppm.apis import inference_cape, init_cape_model, load_image
    from mmppm.webui import SupportSet
    from mmppm.webui.browser import click_image_pixel, message, upload
    from mmppm.webui.render import display_scale
    images = osp.join(toy_default_root, 'images')
    wait = WebDriverWait(driver, 60)
    driver.get(server)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR,
                                         '#support-files input[type=file]'))
    upload(driver, 'support-files', osp.join(images, SUPPORT))
    wait.until(lambda d: 'Support image 1 added' in message(d))
    wait.until(
        lambda d: d.find_elements(By.CSS_SELECTOR, '#support-canvas img'))
    scale = display_scale(load_image(osp.join(images, SUPPORT)))
    for k, (x, y) in enumerate(CLICKS):
        click_image_pixel(driver, x, y, scale)
        wait.until(lambda d, k=k: f'Keypoint {k} placed' in message(d))
    upload(driver, 'query-files', osp.join(images, QUERY))
    wait.until(lambda d: d.find_elements(
        By.CSS_SELECTOR, '#query-files .file-preview, '
        '#query-files table'))
    driver.find_element(By.CSS_SELECTOR, '#run').click()
    WebDriverWait(driver, 300).until(
        lambda d: 'Done in' in message(d) or 'error' in message(d).lower())
    assert 'Done in' in message(driver), message(driver)
    assert driver.find_elements(By.CSS_SELECTOR, '#results img')
    assert driver.find_elements(By.CSS_SELECTOR, '#maps img')
    links = {
        osp.basename(a.get_attribute('href')): a.get_attribute('href')
        for a in driver.find_elements(By.CSS_SELECTOR, '#downloads a')
    }
    assert {
        'predictions.json', 'toy_cat80_1_pred.png', 'toy_cat80_1_maps.png'
    } <= set(links), links
    with urllib.request.urlopen(links['predictions.json']) as f:
        pred = json.loads(f.read())
    with urllib.request.urlopen(links['toy_cat80_1_pred.png']) as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'

    support = np.array(pred['support']['annotations'][0]['keypoints'],
                       np.float32).reshape(-1, 3)
    # the clicks landed where they were aimed (within a display pixel)
    np.testing.assert_allclose(support[:, :2], CLICKS, atol=1.)
    assert (support[:, 2] == 2).all()
    assert pred['images'][0]['file_name'] == osp.basename(QUERY)
    assert len(pred['fit']) == 3

    model = init_cape_model(
        osp.join(REPO, CONFIG),
        cfg_options={
            'model.backbone.pretrained': osp.join(REPO, 'data/toy_sd')
        })
    ref = inference_cape(model, osp.join(images, SUPPORT), support,
                         osp.join(images, QUERY))[0]
    got = np.array(pred['annotations'][0]['keypoints']).reshape(-1, 3)
    np.testing.assert_allclose(
        got[:, :2], ref.pred_instances.keypoints[0], atol=1e-3)
    np.testing.assert_allclose(
        pred['annotations'][0]['keypoint_scores'],
        ref.pred_instances.keypoint_scores[0],
        atol=1e-4)

    # the annotated support set downloads as a file the page can reload
    driver.find_element(By.CSS_SELECTOR, '#save-support').click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#saved-support a'))
    href = driver.find_element(By.CSS_SELECTOR,
                               '#saved-support a').get_attribute('href')
    with urllib.request.urlopen(href) as f:
        saved = SupportSet.from_coco(json.loads(f.read()))
    np.testing.assert_array_equal(saved.images[0].keypoints, support[:, :2])
    np.testing.assert_array_equal(saved.images[0].image,
                                  load_image(osp.join(images, SUPPORT)))
    # ... and loading it back restores the set in a fresh page
    path = tmp_path / 'support_set.json'
    path.write_text(json.dumps(saved.to_coco()))
    driver.get(server)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#run'))
    upload(driver, 'load-support', str(path))
    wait.until(
        lambda d: 'Loaded 1 support image(s) with 3 keypoints' in message(d))
    assert driver.find_elements(By.CSS_SELECTOR, '#support-canvas img')


def test_user_mistakes_show_a_message_not_a_trace(server, driver, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from mmppm.webui.browser import upload

    def toasts(d):
        return ' | '.join(
            e.text for e in d.find_elements(By.CSS_SELECTOR,
                                            '[data-testid="toast-body"]'))

    wait = WebDriverWait(driver, 60)
    driver.get(server)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#run'))
    driver.find_element(By.CSS_SELECTOR, '#run').click()
    wait.until(lambda d: 'at least one query image' in toasts(d))
    fake = tmp_path / 'photo.png'
    fake.write_text('this is text, not a picture')
    upload(driver, 'support-files', str(fake))
    wait.until(lambda d: 'photo.png is not an image' in toasts(d))
    page = driver.page_source
    assert 'Traceback' not in page and 'File "' not in page
