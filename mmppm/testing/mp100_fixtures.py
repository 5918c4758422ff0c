# Copyright (c) mmppm contributors. All rights reserved.
"""Helpers shared by the dataset tests (tiny COCO dicts, toy data)."""
import json
import os
from pathlib import Path

import mmppm.datasets  # noqa: F401  (mmppm before mmpose.models)

TOY_KWARGS = dict(
    seed=0,
    num_categories=(2, 1, 2),
    instances_per_category=8,
    num_keypoints=(5, 12))


def shared_ann_dir() -> Path:
    root = os.environ.get('MMPPM_SHARED_DIR')
    root = Path(root) if root else (
        Path(__file__).resolve().parents[2].parent / 'shared')
    return root / 'data' / 'mp100' / 'annotations'


def require_shared_ann_file(name: str) -> str:
    import pytest
    path = shared_ann_dir() / name
    if not path.is_file():
        pytest.skip(f'{path} is absent (set MMPPM_SHARED_DIR to the folder '
                    'holding data/mp100/annotations)')
    return str(path)


def write_json(path: Path, data) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return str(path)


def make_coco(num_per_cat=(4, 3), ks=(3, 5), img_size=(100, 80)) -> dict:
    """A tiny COCO keypoint dict: one annotation per image."""
    images, anns, cats = [], [], []
    for c, (n, k) in enumerate(zip(num_per_cat, ks)):
        cats.append(
            dict(
                id=10 + c,
                name=f'cat{c}',
                supercategory='x',
                keypoints=[],
                skeleton=[]))
        for i in range(n):
            img_id = 100 * c + i
            images.append(
                dict(
                    id=img_id,
                    file_name=f'cat{c}/{i}.jpg',
                    width=img_size[0],
                    height=img_size[1]))
            kpts = []
            for j in range(k):
                kpts += [10. + 5 * j + i, 20. + 3 * j, 2]
            anns.append(
                dict(
                    id=1000 + img_id,
                    image_id=img_id,
                    category_id=10 + c,
                    bbox=[5., 10., 60., 50.],
                    area=3000.,
                    iscrowd=0,
                    num_keypoints=k,
                    keypoints=kpts))
    return dict(images=images, annotations=anns, categories=cats)
