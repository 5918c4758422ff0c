# Copyright (c) mmppm contributors. All rights reserved.
"""The guarded image decoder and every door that uses it: an image is
measured from its header before anything decodes it (cases 5 and 6 of
issue 29, and the truncated JPEG / 20000 x 1 strip)."""
import base64
import os
import os.path as osp
import struct
import subprocess
import sys
import zlib

import cv2
import numpy as np
import pytest

from mmppm.utils.errors import UserError
from mmppm.utils.image_decoder import (ALLOWED_FORMATS, decode_image,
                                       measure_image)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack('>I', len(data)) + kind + data +
            struct.pack('>I',
                        zlib.crc32(kind + data) & 0xFFFFFFFF))


def constant_png(width: int, height: int) -> bytes:
    """A valid 1-bit grey PNG of one colour: 16000 x 16000 is 32 KB on
    disk and 768 MB once OpenCV decodes it to BGR."""
    row = b'\x00' + b'\x00' * ((width + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b''.join(comp.compress(row) for _ in range(height)) + comp.flush()
    return (b'\x89PNG\r\n\x1a\n' + _chunk(
        b'IHDR', struct.pack('>IIBBBBB', width, height, 1, 0, 0, 0, 0)) +
            _chunk(b'IDAT', idat) + _chunk(b'IEND', b''))


def radiance_hdr(width: int, height: int) -> bytes:
    """A Radiance .hdr header (Pillow cannot read it; OpenCV decodes it)
    and flat run-length pixels."""
    head = (b'#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n' +
            f'-Y {height} +X {width}\n'.encode())
    return head + b'\x80\x80\x80\x80' * min(width * height, 4096)


@pytest.fixture(scope='module')
def bomb(tmp_path_factory):
    path = tmp_path_factory.mktemp('bomb') / 'huge.png'
    path.write_bytes(constant_png(16000, 16000))
    return path


@pytest.fixture
def no_decoding(monkeypatch):
    """OpenCV must not be asked to decode anything."""

    def refuse(*args, **kwargs):
        raise AssertionError('the image was decoded')

    monkeypatch.setattr(cv2, 'imdecode', refuse)
    monkeypatch.setattr(cv2, 'imread', refuse)


def test_the_bomb_is_small_on_disk_and_trips_pillows_own_guard(bomb):
    """Pillow's own check raises in Image.open: the old probe took that for
    'unknown format', skipped the limit and let OpenCV decode 768 MB."""
    from PIL import Image
    assert bomb.stat().st_size < 300_000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(bomb)
    assert Image.MAX_IMAGE_PIXELS == 89478485  # untouched (no global change)


def test_a_16000_square_png_is_refused_at_every_door(bomb, no_decoding):
    """Case 5: the web page and saved support sets accepted it (+2.4 GiB,
    +3.6 GiB)."""
    from mmppm.apis import load_image
    from mmppm.webui.app import PageError, read_upload
    from mmppm.webui.support_set import decode_png
    limit = 'is 16000 x 16000 = 256 megapixels, above the limit of 40'
    with pytest.raises(UserError, match=limit):
        load_image(str(bomb), 'query image')  # inference_cape, the demo
    with pytest.raises(PageError, match='image huge.png ' + limit):
        read_upload(str(bomb))  # the web page's uploads
    text = base64.b64encode(bomb.read_bytes()).decode()
    with pytest.raises(UserError, match='support image 0 ' + limit):
        decode_png(text, 'support image 0')  # a saved support set
    with pytest.raises(UserError, match=limit):
        decode_image(bomb.read_bytes(), 'bytes')


def test_the_dataset_measures_its_images_before_the_pipeline(bomb):
    from mmppm.datasets.mp100_dataset import MP100Dataset
    inst = dict(img_path=str(bomb), id=7, category_name='chair')
    with pytest.raises(
            UserError,
            match=r'image .*huge.png \(annotation id 7, '
            r'category "chair"\) is 16000 x 16000'):
        MP100Dataset._check_image(inst)


@pytest.mark.parametrize('name', ['sky.hdr', 'sky.png'])
def test_a_radiance_hdr_is_refused_under_any_name(tmp_path, name, no_decoding):
    """Case 6: Pillow cannot read its header, so no size was checked and
    OpenCV decoded 10000 x 10000."""
    from mmppm.apis import load_image
    path = tmp_path / name
    path.write_bytes(radiance_hdr(10000, 10000))
    with pytest.raises(
            UserError,
            match=f'{name} is not a readable image: '
            'not one of the allowed formats'):
        load_image(str(path), 'support image')
    assert ALLOWED_FORMATS == ('JPEG', 'PNG', 'BMP', 'WEBP')


def test_the_limit_can_be_overridden(bomb, tmp_path, monkeypatch):
    small = tmp_path / 'small.png'
    cv2.imwrite(str(small), np.zeros((40, 60, 3), np.uint8))
    assert decode_image(str(small)).shape == (40, 60, 3)
    monkeypatch.setenv('MMPPM_MAX_IMAGE_PIXELS', '1000')
    with pytest.raises(
            UserError,
            match='60 x 40 = 0 megapixels, above the '
            'limit of 0 megapixels: resize it first'):
        decode_image(str(small))
    monkeypatch.setenv('MMPPM_MAX_IMAGE_PIXELS', str(300_000_000))
    assert tuple(measure_image(str(bomb), 'x')) == ('PNG', 16000, 16000)
    monkeypatch.setenv('MMPPM_MAX_IMAGE_PIXELS', 'many')
    with pytest.raises(UserError, match='must be an integer'):
        measure_image(str(small), 'x')


def test_opencvs_own_cap_is_set_before_cv2_loads(tmp_path):
    """The second wall: ``import mmppm`` sets OPENCV_IO_MAX_IMAGE_PIXELS
    before anything loads cv2, so OpenCV itself refuses larger images."""
    small = tmp_path / 'small.png'
    cv2.imwrite(str(small), np.zeros((40, 60, 3), np.uint8))
    code = ('import os, mmppm, cv2\n'
            'print(os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"])\n'
            f'try: cv2.imread({str(small)!r})\n'
            'except cv2.error as e: print("pixels <= CV_IO_MAX_IMAGE_PIXELS" '
            'in str(e))')
    env = dict(
        os.environ,
        MMPPM_MAX_IMAGE_PIXELS='1000',
        HF_HUB_OFFLINE='1',
        PYTHONPATH=REPO)
    env.pop('OPENCV_IO_MAX_IMAGE_PIXELS', None)
    out = subprocess.run([sys.executable, '-c', code],
                         env=env,
                         cwd=REPO,
                         capture_output=True,
                         text=True,
                         timeout=120)
    assert out.stdout.split() == ['1000', 'True'], out.stderr[-500:]


def test_a_truncated_jpeg_is_refused(tmp_path):
    """Also noted: OpenCV decoded a cut-off JPEG with its lower half grey
    and no error."""
    img = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
    ok, buf = cv2.imencode('.jpg', img)
    whole = tmp_path / 'whole.jpg'
    whole.write_bytes(buf.tobytes())
    assert decode_image(str(whole)).shape == (64, 64, 3)
    cut = tmp_path / 'cut.jpg'
    cut.write_bytes(buf.tobytes()[:len(buf) // 2])
    with pytest.raises(
            UserError,
            match='cut.jpg: the JPEG has no end '
            'marker .*re-copy or re-save it'):
        decode_image(str(cut), 'query image')


def test_a_strip_is_refused(tmp_path, no_decoding):
    """Also noted: a 20000 x 1 strip gave keypoints far outside the
    image."""
    path = tmp_path / 'strip.png'
    path.write_bytes(constant_png(20000, 1))
    with pytest.raises(
            UserError,
            match='strip.png is 20000 x 1 pixels: an '
            'image needs sides of at least 8 pixels and at most '
            '20:1 proportions'):
        decode_image(str(path), 'query image')


def test_no_other_code_decodes_images_itself():
    """Every door goes through mmppm.utils.image_decoder; the exceptions
    decode images mmppm made itself."""
    allowed = {
        'mmppm/utils/image_decoder.py',
        # re-encoded toy scenes (JPEG artefacts), made in memory
        'projects/toy_sd/datasets/captioned_scenes.py',
        # after measure_image, only to word the error of a failed pipeline
        'mmppm/datasets/mp100_dataset.py',
        # the browser's own screenshot
        'tools/misc/webui_screenshots.py',
    }
    found = set()
    for top in ('mmppm', 'tools', 'demo', 'projects'):
        for root, _, files in os.walk(osp.join(REPO, top)):
            for name in files:
                if not name.endswith('.py'):
                    continue
                path = osp.join(root, name)
                text = open(path, encoding='utf-8').read()
                if any(
                        call in text
                        for call in ('cv2.imread(', 'cv2.imdecode(',
                                     'Image.open(', 'imfrombytes(')):
                    found.add(osp.relpath(path, REPO))
    assert found == allowed


def test_scans_are_counted_across_block_boundaries():
    import io

    from mmppm.utils.image_decoder import count_scans
    data = b'ab\xff\xda' + b'\x00' * 5 + b'\xff\xda\xff\x00\xff\xdaz'
    for block in (1, 2, 3, 4, 7, 1 << 20):
        assert count_scans(io.BytesIO(data), block) == 3, block


def test_a_jpeg_of_too_many_scans_is_refused(tmp_path, monkeypatch):
    """Issue 35 case 11: a 1.7 MB progressive JPEG with 20,000 scans (under
    the pixel limit) took 35-45 s of CPU per image. Known answer: cv2's
    progressive encoding has more than one scan, a baseline JPEG one."""
    from mmppm.utils import image_decoder
    img = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
    baseline = tmp_path / 'baseline.jpg'
    baseline.write_bytes(cv2.imencode('.jpg', img)[1].tobytes())
    progressive = tmp_path / 'progressive.jpg'
    progressive.write_bytes(
        cv2.imencode('.jpg', img,
                     [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes())
    scans = progressive.read_bytes().count(b'\xff\xda')
    assert baseline.read_bytes().count(b'\xff\xda') == 1 and scans > 1
    # the default limit lets a normal progressive JPEG through
    assert decode_image(str(progressive)).shape == (64, 64, 3)
    monkeypatch.setattr(image_decoder, 'MAX_JPEG_SCANS', scans - 1)
    assert decode_image(str(baseline)).shape == (64, 64, 3)
    for source in (str(progressive), progressive.read_bytes()):
        with pytest.raises(
                UserError,
                match=f'the JPEG has {scans} scans, more than {scans - 1} '
                r'.*re-save it, e.g. as a baseline JPEG or a PNG'):
            decode_image(source, 'query image')
