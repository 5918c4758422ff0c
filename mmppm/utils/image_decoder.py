# Copyright (c) mmppm contributors. All rights reserved.
"""The one guarded image decoder of every door (docs/reliability.md).

An image is measured before it is decoded: its format must be on
:data:`ALLOWED_FORMATS`, its width and height are read from its header (by
Pillow's format plugin itself, so Pillow's own decompression-bomb guard in
``Image.open`` cannot turn a too-large image into "unknown format"; no
global Pillow setting is touched), and an image larger than
:func:`max_image_pixels`, thinner than :data:`MIN_IMAGE_SIDE` or more
elongated than :data:`MAX_ASPECT_RATIO` is refused. An image whose size
cannot be read from its header (a Radiance ``.hdr`` under any name, a
damaged header) is refused, never decoded. A JPEG without its end marker
(a truncated download) is refused too: OpenCV would decode it with its
lower part grey. Only then does OpenCV decode it; its own pixel cap
(``OPENCV_IO_MAX_IMAGE_PIXELS``, set by ``import mmppm`` to the same limit
unless already set; it takes effect only if cv2 was not loaded before) is
the second wall.
"""
import io
import os
import os.path as osp
from typing import NamedTuple, Union

import numpy as np

from .errors import MissingFileError, UserError
from .numerics import env_limit

#: Largest image (pixels) any door of mmppm decodes: the data sets, the demo,
#: the web page, inference_cape, support sets (``MMPPM_MAX_IMAGE_PIXELS``
#: overrides it).
MAX_IMAGE_PIXELS = 40_000_000
#: The formats mmppm decodes (Pillow's format names).
ALLOWED_FORMATS = ('JPEG', 'PNG', 'BMP', 'WEBP')
#: The shorter side of an image must be at least this many pixels.
MIN_IMAGE_SIDE = 8
#: The longer side may be at most this many times the shorter one (a
#: 20000 x 1 strip gives a crop far outside the picture).
MAX_ASPECT_RATIO = 20
#: A JPEG's end-of-image marker must be within its last this many bytes.
JPEG_TAIL_BYTES = 1024
#: Scans a JPEG may have (a progressive JPEG has about 10; each scan is a
#: pass over the whole picture: 20,000 scans in a 1.7 MB file took 35-45 s
#: of CPU to decode).
MAX_JPEG_SCANS = 100
_SOS = b'\xff\xda'  # start of scan (0xFF in entropy-coded data is 0xFF00)
_HEADER_BYTES = 16


class ImageHeader(NamedTuple):
    """What an image's header says: Pillow's format name, width, height."""
    format: str
    width: int
    height: int


def max_image_pixels() -> int:
    """:data:`MAX_IMAGE_PIXELS`, or ``MMPPM_MAX_IMAGE_PIXELS`` if set."""
    return env_limit('MMPPM_MAX_IMAGE_PIXELS', MAX_IMAGE_PIXELS)


def check_image_size(width: int, height: int, what: str) -> None:
    """One error when an image is larger than :func:`max_image_pixels`,
    thinner than :data:`MIN_IMAGE_SIDE` or more elongated than
    :data:`MAX_ASPECT_RATIO` (checked before decoding: a small PNG can
    decode to gigabytes)."""
    limit = max_image_pixels()
    if width * height > limit:
        raise UserError(
            f'{what} is {width} x {height} = {width * height / 1e6:.0f} '
            f'megapixels, above the limit of {limit / 1e6:.0f} megapixels: '
            'resize it first (or raise MMPPM_MAX_IMAGE_PIXELS)')
    short, long = sorted((width, height))
    if short < MIN_IMAGE_SIDE or long > MAX_ASPECT_RATIO * short:
        raise UserError(
            f'{what} is {width} x {height} pixels: an image needs sides of '
            f'at least {MIN_IMAGE_SIDE} pixels and at most '
            f'{MAX_ASPECT_RATIO}:1 proportions; crop or pad it to the object')


def read_header(stream, what: str) -> ImageHeader:
    """Format and size from the header of an image in a binary stream.

    Each allowed format's Pillow plugin reads its header directly (what
    ``Image.open`` does, without its decompression-bomb check: the size is
    what we want to know, and we check it ourselves).

    Args:
        stream: A seekable binary stream at the image's start.
        what (str): Named in errors.

    Raises:
        UserError: Not one of :data:`ALLOWED_FORMATS`, or its header
            cannot be read.
    """
    from PIL import Image
    Image.init()
    prefix = stream.read(_HEADER_BYTES)
    for name in ALLOWED_FORMATS:
        factory, accept = Image.OPEN[name]
        if accept is not None and not accept(prefix):
            continue
        stream.seek(0)
        try:
            with factory(stream) as probe:
                width, height = probe.size
        except Exception:  # noqa: BLE001  (a damaged header)
            raise UserError(
                f'{what}: its {name} header cannot be read (damaged or '
                'truncated file): re-copy or re-save it') from None
        return ImageHeader(name, int(width), int(height))
    raise UserError(
        f'{what} is not a readable image: not one of the allowed formats '
        f'({", ".join(ALLOWED_FORMATS)}), or its size cannot be read from '
        'its header; convert it, e.g. to PNG or JPEG')


def check_complete(tail: bytes, header: ImageHeader, what: str) -> None:
    """Refuse a JPEG whose end-of-image marker is not within its last
    :data:`JPEG_TAIL_BYTES` bytes (a truncated file: OpenCV would decode
    it with a grey lower part and no error)."""
    if header.format == 'JPEG' and b'\xff\xd9' not in tail:
        raise UserError(
            f'{what}: the JPEG has no end marker (a truncated file, or '
            'data appended after the picture): re-copy or re-save it')


def count_scans(stream, block: int = 2**20) -> int:
    """Start-of-scan markers in a JPEG stream, read in blocks (a marker
    split across two blocks is counted once)."""
    count, carry = 0, b''
    while True:
        chunk = stream.read(block)
        if not chunk:
            return count
        data = carry + chunk
        count += data.count(_SOS)
        # keep the last byte: a marker split across the boundary; never
        # count a marker twice (one that ends the data is not carried)
        carry = data[-1:] if not data.endswith(_SOS) else b''


def check_scans(count: int, header: ImageHeader, what: str) -> None:
    """Refuse a JPEG of more than :data:`MAX_JPEG_SCANS` scans (each a
    pass of the decoder over the whole picture)."""
    if header.format == 'JPEG' and count > MAX_JPEG_SCANS:
        raise UserError(
            f'{what}: the JPEG has {count} scans, more than {MAX_JPEG_SCANS} '
            '(a progressive JPEG has about 10; decoding would take minutes): '
            're-save it, e.g. as a baseline JPEG or a PNG')


def _label(what: str, path: str) -> str:
    """``what`` followed by the path, unless it already names it."""
    return what if path in what else f'{what} {path}'


def measure_image(source: Union[str, bytes], what: str) -> ImageHeader:
    """Everything :func:`decode_image` checks before decoding, for a file
    or the bytes of one: format, size, proportions, completeness, and a
    JPEG's number of scans.

    Raises:
        MissingFileError: A path that is not a file.
        UserError: An image the decoder refuses (the message names it and
            the fix).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        header = read_header(io.BytesIO(data), what)
        tail = data[-JPEG_TAIL_BYTES:]
        scans = count_scans(io.BytesIO(data)) if header.format == 'JPEG' \
            else 0
    else:
        path = str(source)
        if not osp.isfile(path):
            raise MissingFileError(f'{what} not found: {path}')
        what = _label(what, path)
        with open(path, 'rb') as f:
            header = read_header(f, what)
            f.seek(max(0, os.fstat(f.fileno()).st_size - JPEG_TAIL_BYTES))
            tail = f.read()
            scans = 0
            if header.format == 'JPEG':
                f.seek(0)
                scans = count_scans(f)
    check_image_size(header.width, header.height, what)
    check_complete(tail, header, what)
    check_scans(scans, header, what)
    return header


def decode_image(source: Union[str, bytes], what: str = 'image') -> np.ndarray:
    """A BGR uint8 ``[H, W, 3]`` image from a file or its bytes, measured
    first (:func:`measure_image`).

    Args:
        source (str | bytes): A file path or the file's bytes.
        what (str): Named in errors. Defaults to 'image'.

    Raises:
        MissingFileError: The file does not exist.
        UserError: Refused by :func:`measure_image`, or OpenCV cannot
            decode it.
    """
    import cv2
    if not isinstance(source, (bytes, bytearray, memoryview)):
        path = str(source)
        measure_image(path, what)
        with open(path, 'rb') as f:
            data = f.read()
        what = _label(what, path)
    else:
        data = bytes(source)
        measure_image(data, what)
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:  # above OpenCV's own cap (the second wall)
        img = None
    if img is None:
        raise UserError(f'{what} is not a readable image (OpenCV cannot '
                        'decode it, or it is above '
                        'OPENCV_IO_MAX_IMAGE_PIXELS)')
    return img
