# Copyright (c) mmppm contributors. All rights reserved.
"""Screenshots of the web page before and after a run (docs/figures).

Starts ``demo/webui.py`` with the bundled toy model, annotates a toy support
image by clicking its annotated keypoints in headless Chromium, uploads two
queries, takes ``webui_before.png``, presses Run and takes
``webui_after.png``; prints the time of the run in the page.

    python tools/misc/webui_screenshots.py --out-dir docs/figures
"""
import argparse
import os
import os.path as osp
import socket
import subprocess
import sys
import time
import urllib.request

import cv2
import numpy as np

from mmppm.engine.cli.arg_types import positive_int

CONFIG = 'configs/ppm/ppm_toy-sd_1shot_toy.py'
TOY_DATA = 'data/toy_mp100'
SUPPORT = 'toy_cat80/toy_cat80_0.jpg'
QUERIES = ('toy_cat80/toy_cat80_1.jpg', 'toy_cat80/toy_cat80_2.jpg')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out-dir', default='docs/figures')
    parser.add_argument('--width', type=positive_int, default=1400)
    return parser.parse_args(argv)


def support_keypoints(root: str) -> list:
    """The toy annotation of the support: visible ``(x, y)`` in order."""
    from mmppm.datasets.json_io import read_json_object
    data = read_json_object(
        osp.join(root, 'annotations', 'mp100_split1_test.json'))
    image = next(i for i in data['images'] if i['file_name'] == SUPPORT)
    ann = next(a for a in data['annotations'] if a['image_id'] == image['id'])
    kpts = ann['keypoints']
    return [(kpts[i], kpts[i + 1]) for i in range(0, len(kpts), 3)
            if kpts[i + 2] > 0]


def start_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([
        sys.executable, 'demo/webui.py', CONFIG, '--port',
        str(port), '--examples',
        osp.join(TOY_DATA, 'images', 'toy_cat80')
    ])
    for _ in range(180):
        try:
            urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                sys.exit('error: demo/webui.py did not start')
            time.sleep(1)
    proc.kill()
    sys.exit('error: demo/webui.py did not answer within 180 s')


def save_screenshot(driver, path: str, width: int) -> None:
    """Full page, trimmed of the empty bottom, at most ``width`` wide."""
    height = driver.execute_script(
        'return document.querySelector(".gradio-container").scrollHeight')
    driver.set_window_size(width, min(int(height) + 40, 4000))
    time.sleep(1)
    png = driver.get_screenshot_as_png()
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    cv2.imwrite(
        path,
        cv2.resize(img, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA))
    print(f'wrote {path}')


def main(argv=None):
    args = parse_args(argv)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from mmppm.apis import load_image
    from mmppm.datasets import generate_toy_mp100
    from mmppm.webui.browser import (chromium_driver, click_image_pixel,
                                     message, upload)
    from mmppm.webui.render import display_scale
    generate_toy_mp100(TOY_DATA, seed=0)
    images = osp.abspath(osp.join(TOY_DATA, 'images'))
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    server = start_server(port)
    driver = chromium_driver(args.width, 2200)
    try:
        wait = WebDriverWait(driver, 60)
        driver.get(f'http://127.0.0.1:{port}/')
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#run'))
        upload(driver, 'support-files', osp.join(images, SUPPORT))
        wait.until(lambda d: 'Support image 1 added' in message(d))
        scale = display_scale(load_image(osp.join(images, SUPPORT)))
        for k, (x, y) in enumerate(support_keypoints(TOY_DATA)):
            click_image_pixel(driver, x, y, scale)
            wait.until(lambda d, k=k: f'Keypoint {k} placed' in message(d))
        upload(driver, 'query-files',
               '\n'.join(osp.join(images, q) for q in QUERIES))
        time.sleep(2)
        os.makedirs(args.out_dir, exist_ok=True)
        save_screenshot(driver, osp.join(args.out_dir, 'webui_before.png'),
                        args.width)
        start = time.time()
        driver.find_element(By.CSS_SELECTOR, '#run').click()
        WebDriverWait(driver, 600).until(lambda d: 'Done in' in message(d))
        print(f'run: {time.time() - start:.1f} s in the browser; page says: '
              f'{message(driver)}')
        time.sleep(2)
        save_screenshot(driver, osp.join(args.out_dir, 'webui_after.png'),
                        args.width)
    finally:
        driver.quit()
        server.terminate()
        server.wait(30)


if __name__ == '__main__':
    from mmppm.engine.cli import run_tool
    run_tool(main)
