# Copyright (c) mmppm contributors. All rights reserved.
"""Content fingerprints of what decides a test run's predictions.

A cached prediction may be replayed only if nothing that produced it has
changed: the resolved config, the checkpoint's bytes, the Stable Diffusion
weights, the annotation file and the images. Paths are not enough (a file
replaced under the same name must never replay), so every part is keyed on
content:

- small files (checkpoints, annotation files, SD configs) and every image:
  SHA-256 of the bytes. Size and modification time are not enough for
  images: ``cp -p``, ``rsync -t`` and ``tar`` keep both while replacing
  the picture. Hashing a test split's images costs about a second per
  gigabyte (docs/train_test.md);
- large files (SD weights, over 64 MiB): size, modification time and
  SHA-256 of their first and last MiB, so a multi-GB folder is
  fingerprinted in milliseconds and any rewrite of a file changes its key.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Iterable, Optional

#: Files up to this size are hashed whole.
FULL_HASH_MAX_BYTES = 64 * 2**20
_EDGE = 2**20


def file_fingerprint(path: str) -> str:
    """SHA-256 of a file's bytes, or for a large file of its size,
    modification time and first and last MiB."""
    digest = hashlib.sha256()
    stat = os.stat(path)
    with open(path, 'rb') as f:
        if stat.st_size <= FULL_HASH_MAX_BYTES:
            for block in iter(lambda: f.read(2**20), b''):
                digest.update(block)
        else:
            digest.update(f'{stat.st_size}:{stat.st_mtime_ns}'.encode())
            digest.update(f.read(_EDGE))
            f.seek(stat.st_size - _EDGE)
            digest.update(f.read(_EDGE))
    return digest.hexdigest()


def content_fingerprint(paths: Iterable[str]) -> str:
    """Digest of the bytes of many files (images), each named by its path:
    any file whose content differs changes it, whatever its size and
    modification time; a missing one is recorded as missing."""
    digest = hashlib.sha256()
    for path in sorted(set(paths)):
        try:
            part = file_fingerprint(path)
        except OSError:
            part = 'missing'
        digest.update(f'{path}:{part}\n'.encode())
    return digest.hexdigest()


def folder_fingerprint(folder: str) -> str:
    """Digest of every file under ``folder`` (relative path and
    :func:`file_fingerprint`)."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = osp.join(root, name)
            rel = osp.relpath(path, folder)
            digest.update(f'{rel}:{file_fingerprint(path)}\n'.encode())
    return digest.hexdigest()


def weights_fingerprint(pretrained: Optional[str],
                        revision: Optional[str] = None) -> Optional[str]:
    """A local SD folder: its content; a hub id: the id and revision (the
    hub's snapshots are content-addressed by commit)."""
    if not pretrained:
        return None
    if osp.isdir(pretrained):
        return folder_fingerprint(pretrained)
    return f'hub:{pretrained}@{revision or "main"}'


def _short(value: Optional[str]) -> Optional[str]:
    """16 hex digits of a digest (hub ids are kept whole)."""
    if value is None or value.startswith('hub:'):
        return value
    return value[:16]


def run_fingerprint(config_digest: str,
                    load_from: Optional[str] = None,
                    pretrained: Optional[str] = None,
                    revision: Optional[str] = None,
                    ann_file: Optional[str] = None,
                    image_paths: Iterable[str] = ()) -> Dict[str, str]:
    """The parts of a prediction cache key, each a short digest.

    Args:
        config_digest (str): Digest of the resolved model and dataset
            config.
        load_from (str, optional): Checkpoint file.
        pretrained (str, optional): ``model.backbone.pretrained``.
        revision (str, optional): Its hub revision.
        ann_file (str, optional): The test annotation file.
        image_paths (Iterable[str]): The images of the test set.

    Returns:
        dict: ``config``, ``checkpoint``, ``sd_weights``, ``annotations``
        and ``images`` digests (None where the part does not apply).
    """
    image_paths = list(image_paths)
    return dict(
        config=config_digest,
        checkpoint=_short(file_fingerprint(load_from))
        if load_from and osp.isfile(load_from) else load_from,
        sd_weights=_short(weights_fingerprint(pretrained, revision)),
        annotations=_short(file_fingerprint(ann_file))
        if ann_file and osp.isfile(ann_file) else ann_file,
        images=_short(content_fingerprint(image_paths))
        if image_paths else None)


def cache_key(parts: Dict[str, Optional[str]]) -> str:
    """A 12-character name for the cache folder of these parts."""
    text = json.dumps(parts, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]
