# Copyright (c) mmppm contributors. All rights reserved.
"""A category's content digest: what it is, not what it is called.

CPT checkpoints record the digests of the base categories they were trained
on; a test run refuses test categories with one of those digests
(:class:`mmppm.engine.hooks.CategoryHygieneHook`, docs/train_test.md).
"""
import hashlib
import os.path as osp
from typing import Dict, Iterable

import numpy as np

from .mp100_dataset import load_coco_json, parse_mp100_instances


def category_digests(instances: Iterable[dict]) -> Dict[int, str]:
    """SHA-256 per category of its instances' annotations.

    A category's digest covers its keypoint count and, in a canonical
    order, every instance's keypoints (x, y rounded to 0.01 px, visibility)
    and clipped bbox; not its name, id or image paths, so a renamed or
    re-numbered copy of a category has the same digest, and a category that
    shares a name but not its instances does not.

    Args:
        instances (Iterable[dict]): MP-100 instances (``category_id``,
            ``keypoints`` ``[1, K, 2]``, ``keypoints_visible`` ``[1, K]``,
            ``bbox`` ``[1, 4]``), e.g. ``MP100Dataset.instances``.

    Returns:
        dict: ``{category_id: hex digest}``.
    """
    rows: Dict[int, list] = {}
    for inst in instances:
        kpts = np.asarray(inst['keypoints'], dtype=np.float64).reshape(-1, 2)
        vis = np.asarray(
            inst['keypoints_visible'], dtype=np.float64).reshape(-1, 1)
        bbox = np.asarray(inst['bbox'], dtype=np.float64).reshape(-1)
        row = np.round(
            np.concatenate([(kpts * vis).reshape(-1),
                            vis.reshape(-1), bbox]), 2)
        rows.setdefault(int(inst['category_id']), []).append(
            (len(kpts), ','.join(f'{v:.2f}' for v in row)))
    return {
        cid:
        hashlib.sha256('\n'.join(
            f'{k}:{text}' for k, text in sorted(items)).encode()).hexdigest()
        for cid, items in rows.items()
    }


def file_category_digests(ann_file: str) -> Dict[str, str]:
    """``{digest: category name}`` of every category of an MP-100-format
    annotation file (what a checkpoint trained on it records)."""
    instances, categories = parse_mp100_instances(
        load_coco_json(ann_file), ann_file, '')
    return {
        digest: categories[cid]['name']
        for cid, digest in category_digests(instances).items()
    }


def config_train_file(cfg) -> str:
    """The training annotation file of a config (``data_root`` joined)."""
    dataset = cfg.train_dataloader.dataset
    return osp.join(dataset.get('data_root', ''), dataset.ann_file)
