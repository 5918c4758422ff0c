# Copyright (c) mmppm contributors. All rights reserved.
"""K, the number of base keypoints of a CPT training set (paper Eq. 6).

CPT learns one prompt per keypoint of every training category, so the model
needs K = the keypoints of all categories of the train annotation file,
concatenated in file order (the same count and order as
``MP100Dataset.num_total_keypoints`` and each sample's ``keypoint_offset``).
The CPT configs leave ``model.train_cfg.num_base_keypoints=None``;
``tools/train.py`` fills it in with :func:`fill_num_base_keypoints`.
"""
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.logging import print_log

from mmppm.utils.errors import UserError
from mmppm.utils.value_checks import recipe_class
from .mp100_dataset import load_coco_json, parse_mp100_instances


def count_base_keypoints(ann_file: str) -> int:
    """Total keypoints over the categories of a COCO keypoint file.

    K of a category comes from its annotations (as in
    :func:`mmppm.datasets.mp100_dataset.parse_mp100_instances`), not from the
    keypoint name list, which may be empty.

    Args:
        ann_file (str): Path to the annotation JSON.

    Returns:
        int: Sum of K over all categories of the file.
    """
    _, categories = parse_mp100_instances(
        load_coco_json(ann_file), ann_file, '')
    return sum(c['num_keypoints'] for c in categories.values())


def train_ann_file(cfg: Config) -> str:
    """Path of the train annotation file named by ``cfg.train_dataloader``
    (``data_root`` joined unless ``ann_file`` is absolute)."""
    dataset = cfg.train_dataloader.dataset
    while 'ann_file' not in dataset and 'dataset' in dataset:
        dataset = dataset.dataset  # dataset wrappers
    if 'ann_file' not in dataset:
        raise UserError('Cannot find train_dataloader.dataset.ann_file; set '
                        'model.train_cfg.num_base_keypoints yourself')
    ann_file = dataset.ann_file
    data_root = dataset.get('data_root') or ''
    return ann_file if osp.isabs(ann_file) else osp.join(data_root, ann_file)


def fill_num_base_keypoints(cfg: Config) -> Optional[int]:
    """Set ``cfg.model.train_cfg.num_base_keypoints`` from the train file.

    Only for CPT models (``model.prompt_encoder`` set) with a
    ``train_dataloader`` and the paper's recipe (the episodic one has no
    base prompts). A value already in the config is checked against
    the file.

    Args:
        cfg (Config): The training config (modified in place).

    Returns:
        int | None: K, or None where nothing applies (plain PPM, no
        train_dataloader).

    Raises:
        FileNotFoundError: The train annotation file does not exist.
        ValueError: The config's K differs from the file's.
    """
    model = cfg.get('model') or {}
    if model.get('prompt_encoder') is None or not cfg.get('train_dataloader'):
        return None
    if not getattr(recipe_class(model), 'trains_base_prompts', True):
        return None  # episodic CPT has no base prompts P^k (docs/cpt.md)
    ann_file = train_ann_file(cfg)
    k = count_base_keypoints(ann_file)
    train_cfg = model.get('train_cfg') or {}
    given = train_cfg.get('num_base_keypoints')
    if given is not None and int(given) != k:
        raise UserError(
            f'model.train_cfg.num_base_keypoints={given} but the train file '
            f'{ann_file} has {k} keypoints over its categories; leave it None '
            'to use the file')
    cfg.model.train_cfg = dict(train_cfg, num_base_keypoints=k)
    if given is None:
        print_log(
            f'CPT: model.train_cfg.num_base_keypoints = {k} (keypoints of '
            f'all categories of {ann_file})',
            logger='current')
    return k
