# Copyright (c) mmppm contributors. All rights reserved.
"""A tiny synthetic dataset in MP-100 format, for smoke tests and demos.

Each category is an articulated tree of 5-20 keypoints. Every keypoint is
drawn as a blob with its own colour and shape (consistent over the
category's instances), so that local appearance identifies it; instances
differ by rotation (+-60 degrees), scale, position (not centred),
articulation (+-20 degrees per limb) and limb length (0.8-1.2), on a
cluttered grey background; blobs never overlap. Some
keypoints are occluded (v=0). Train, val and test categories are disjoint.
A keypoint's name is the word of its blob (:func:`.words.blob_word`: hue bin,
tone, shape), the word the toy SD's captions use for it
(projects/toy_sd/README.md).

Two worlds (:data:`WORLDS`): ``'blobs'`` (the above) and ``'lookalike'``
(:mod:`.lookalike`: mirror twins, colour morphs, unmarked joints).
Each category is drawn from its own seed stream, a function of
(seed, world, split, index in the split) only (:func:`category_stream`):
a category drawn for one split is never drawn for another, in any preset
(docs/toy_benchmark.md, "Category hygiene"); the toy SD's pretraining
scenes use another stream (:mod:`projects.toy_sd.datasets.captioned_scenes`).
"""
import json
import os.path as osp
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

import numpy as np

from mmppm.utils.atomic_io import atomic_write_json
from mmppm.utils.errors import RefusedOverwriteError, UserError
from .drawing import make_instance, make_template
from .lookalike import make_lookalike_instance, make_lookalike_template

# 3: keypoint names are the blobs' words (images unchanged since 2)
# 4: streams per (world, split, index); categories named by their stream
TOY_VERSION = 4
SPLITS = ('train', 'val', 'test')
#: The toy worlds (docs/toy_benchmark.md).
WORLDS = ('blobs', 'lookalike')
#: The first world's streams ``[seed, base + index]`` (the layout the toy
#: benchmark's data and the shipped CPT checkpoint were made with): train
#: 0-69, val 70-79, test 80-99. Beyond these capacities, and in every other
#: world, a category's stream is ``[seed, STREAM_TAG, world, split, index]``.
LEGACY_BASE = dict(train=0, val=70, test=80)
LEGACY_CAPACITY = dict(train=70, val=10, test=20)
STREAM_TAG = 4051

#: Named argument sets of :func:`generate_toy_mp100`. ``'toy'``: the small
#: set of ``make toy`` and the tests. ``'mp100'``: one MP-100 split's shape
#: (70 train / 10 val / 20 test categories) for the toy benchmark
#: (docs/toy_benchmark.md); 20 instances per category, so a 5-shot episode
#: can draw 15 queries as MP-100's do; 8 to 20 keypoints: MP-100's smallest
#: count is 8, and above 20 the toy world's blobs collide (share of
#: instances whose 20 pose draws all overlap two blobs: 8 % at K = 20, 25 %
#: at 24, 53 % at 28, 84 % at 40), so MP-100's 21-68 keypoint categories
#: have no toy counterpart.
PRESETS = {
    'toy':
    dict(
        num_categories=(8, 2, 3),
        instances_per_category=20,
        num_keypoints=(5, 20)),
    'mp100':
    dict(
        num_categories=(70, 10, 20),
        instances_per_category=20,
        num_keypoints=(8, 20)),
    'lookalike':
    dict(
        num_categories=(70, 10, 20),
        instances_per_category=20,
        num_keypoints=(8, 20),
        world='lookalike'),
}


def category_stream(seed: int, world: str, split: str,
                    index: int) -> Tuple[list, str]:
    """The seed stream and name of category ``index`` of ``split``.

    A function of (seed, world, split, index) only, so that a category
    belongs to one split whatever the preset's counts; the first world
    keeps its original layout (:data:`LEGACY_BASE`) within its capacities.

    Returns:
        tuple: ``(entropy, name)``: the ``np.random.default_rng`` seed and
        the category's name (``toy_catNN`` with NN its legacy stream index;
        ``lookalike_<split>NN`` / ``toy_<split>NN`` otherwise).
    """
    if world not in WORLDS or split not in SPLITS:
        raise UserError(f'unknown toy world {world!r} or split {split!r}; '
                        f'choose a world of {list(WORLDS)}')
    if world == 'blobs' and index < LEGACY_CAPACITY[split]:
        pos = LEGACY_BASE[split] + index
        return [seed, pos], f'toy_cat{pos:02d}'
    prefix = 'toy' if world == 'blobs' else world
    return ([
        seed, STREAM_TAG,
        WORLDS.index(world) + 1,
        SPLITS.index(split) + 1, index
    ], f'{prefix}_{split}{index:02d}')


def _r(x: float) -> float:
    return round(float(x), 2)


def draw_category(seed: int, world: str, split: str, index: int,
                  num_keypoints: Tuple[int, int], num_instances: int,
                  img_size: Tuple[int, int]) -> tuple:
    """Draw one category and its instances from its own stream
    (:func:`category_stream`).

    Returns:
        tuple: ``(category, instances)``: the COCO category (``id`` None,
        for the caller to number) and a generator of ``(image, keypoints
        [K, 3], bbox xywh, extra annotation fields)``, drawn lazily in
        order.
    """
    entropy, name = category_stream(seed, world, split, index)
    rng = np.random.default_rng(entropy)
    k = int(rng.integers(num_keypoints[0], num_keypoints[1] + 1))
    category = dict(supercategory='toy', id=None, name=name)
    if world == 'lookalike':
        tpl = make_lookalike_template(rng, k)
        category.update(
            keypoints=list(tpl['names']),
            keypoint_kinds=list(tpl['kinds']),
            keypoint_words=list(tpl['words']))
    else:
        tpl = make_template(rng, k)
        category.update(keypoints=list(tpl['words']))
    category['skeleton'] = [[p + 1, i + 1]
                            for i, p in enumerate(tpl['parents']) if p >= 0]

    def instances():
        for _ in range(num_instances):
            if world == 'lookalike':
                img, kpts, bbox, _, morph = make_lookalike_instance(
                    rng, tpl, img_size)
                yield img, kpts, bbox, dict(morph=morph)
            else:
                img, kpts, bbox, _ = make_instance(rng, tpl, img_size)
                yield img, kpts, bbox, {}

    return category, instances()


def generate_toy_mp100(out_dir: Union[str, Path] = 'data/toy_mp100',
                       seed: int = 0,
                       num_categories: Tuple[int, int, int] = (8, 2, 3),
                       instances_per_category: int = 20,
                       num_keypoints: Tuple[int, int] = (5, 20),
                       img_size: Tuple[int, int] = (176, 256),
                       split_name: str = 'mp100_split1',
                       force: bool = False,
                       preset: Optional[str] = None,
                       world: str = 'blobs') -> Dict[str, str]:
    """Write a toy MP-100-format dataset; skip if it is already there.

    Layout: ``out_dir/images/<category>/<category>_<n>.jpg`` and
    ``out_dir/annotations/<split_name>_{train,val,test}.json``, plus
    ``out_dir/toy_mp100_meta.json`` recording the arguments (the skip test).

    Args:
        out_dir (str | Path): Output folder. Defaults to 'data/toy_mp100'.
        seed (int): Everything is drawn from it. Defaults to 0.
        num_categories (tuple[int]): Categories in train, val and test
            (disjoint). Defaults to (8, 2, 3).
        instances_per_category (int): One instance per image. Defaults to
            20.
        num_keypoints (tuple[int]): Inclusive range of K. Defaults to
            (5, 20).
        img_size (tuple[int]): Inclusive range of image width and height.
            Defaults to (176, 256).
        split_name (str): Annotation file stem. Defaults to 'mp100_split1'.
        force (bool): Regenerate even if a matching dataset exists, and
            write over annotation files this function did not create.
            Defaults to False.
        preset (str, optional): A name in :data:`PRESETS`; its values
            replace ``num_categories``, ``instances_per_category`` and
            ``num_keypoints`` (and ``world``). Defaults to None (the
            arguments as given).
        world (str): One of :data:`WORLDS`. ``'lookalike'`` categories
            also carry ``keypoint_kinds`` and ``keypoint_words``, and their
            annotations ``morph`` (:mod:`.lookalike`). Defaults to 'blobs'.

    Returns:
        dict: ``{'train' | 'val' | 'test': annotation file path}``.
    """
    if preset is not None:
        if preset not in PRESETS:
            raise UserError(f'unknown toy preset {preset!r}; choose one of '
                            f'{sorted(PRESETS)}')
        num_categories = PRESETS[preset]['num_categories']
        instances_per_category = PRESETS[preset]['instances_per_category']
        num_keypoints = PRESETS[preset]['num_keypoints']
        world = PRESETS[preset].get('world', 'blobs')
    if world not in WORLDS:
        raise UserError(f'unknown toy world {world!r}; choose one of '
                        f'{list(WORLDS)}')
    out_dir = Path(out_dir)
    ann_files = {
        s: str(out_dir / 'annotations' / f'{split_name}_{s}.json')
        for s in SPLITS
    }
    meta = dict(
        version=TOY_VERSION,
        seed=seed,
        num_categories=list(num_categories),
        instances_per_category=instances_per_category,
        num_keypoints=list(num_keypoints),
        img_size=list(img_size),
        split_name=split_name,
        world=world)
    meta_file = out_dir / 'toy_mp100_meta.json'
    if not force and meta_file.is_file() and all(
            osp.isfile(f) for f in ann_files.values()):
        with open(meta_file, encoding='utf-8') as f:
            if json.load(f) == meta:
                return ann_files
    foreign = [f for f in ann_files.values() if osp.exists(f)]
    if foreign and not force and not meta_file.is_file():
        raise RefusedOverwriteError(
            f'{foreign[0]} exists and was not written by the toy generator '
            f'(no {meta_file.name} beside it); refusing to overwrite it. '
            'Choose another output folder, or pass force=True (--force).')

    (out_dir / 'annotations').mkdir(parents=True, exist_ok=True)
    cat_id = 0
    for split, num_cats in zip(SPLITS, num_categories):
        coco = dict(
            info=dict(description=f'toy MP-100 ({split}), seed {seed}' +
                      ('' if world == 'blobs' else f', world {world}')),
            images=[],
            annotations=[],
            categories=[])
        for index in range(num_cats):
            cat_id += 1
            category, instances = draw_category(seed, world, split, index,
                                                num_keypoints,
                                                instances_per_category,
                                                img_size)
            name = category['name']
            category['id'] = cat_id
            coco['categories'].append(category)
            (out_dir / 'images' / name).mkdir(parents=True, exist_ok=True)
            for n, (img, kpts, bbox, extra) in enumerate(instances):
                file_name = f'{name}/{name}_{n}.jpg'
                img.save(out_dir / 'images' / file_name, quality=92)
                img_id = cat_id * 1000 + n
                coco['images'].append(
                    dict(
                        id=img_id,
                        file_name=file_name,
                        height=img.height,
                        width=img.width))
                coco['annotations'].append(
                    dict(
                        keypoints=[_r(v) for v in kpts.reshape(-1)],
                        image_id=img_id,
                        id=img_id + 1000000,
                        num_keypoints=int((kpts[:, 2] > 0).sum()),
                        bbox=[_r(v) for v in bbox],
                        iscrowd=0,
                        area=_r(bbox[2] * bbox[3]),
                        category_id=cat_id,
                        **extra))
        atomic_write_json(ann_files[split], coco)
    atomic_write_json(meta_file, meta)
    return ann_files
