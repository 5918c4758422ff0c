# Copyright (c) mmppm contributors. All rights reserved.
"""MP-100 (COCO-format) dataset for category-agnostic pose estimation."""
import os.path as osp
import random
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Union

import cv2
import numpy as np
from mmengine.dataset import BaseDataset, Compose
from mmengine.fileio import exists
from mmengine.registry import DefaultScope
from mmpose.registry import DATASETS, TRANSFORMS

from mmppm.utils.errors import MissingFileError, UserError
from mmppm.utils.image_decoder import measure_image
from mmppm.utils.numerics import is_int
from .coco_schema import annotation_keypoints, check_coco_keypoints
from .episode import pack_episode
from .json_io import read_json_object

MODES = ('train', 'val', 'test')


def _copy_instance(inst: dict) -> dict:
    """A copy a pipeline may modify (arrays and lists copied; much faster
    than ``copy.deepcopy``)."""
    return {
        k: v.copy() if isinstance(v, (np.ndarray, list)) else v
        for k, v in inst.items()
    }


def build_pipeline(
        transforms: Sequence[Union[dict, Callable]]) -> List[Callable]:
    """Build config dicts with mmpose's TRANSFORMS registry.

    mmengine builds in the current default scope's registry; where that is
    none or ``'mmengine'`` (e.g. after an mmengine ``Runner`` with
    ``default_scope='mmengine'`` in the same process), mmpose's transforms
    (``LoadImage``, ``TopdownAffine``) would not be found, so they are built
    in the ``'mmpose'`` scope there. Any other scope (a project's own,
    mmpose's children) is kept.
    """
    current = DefaultScope.get_current_instance()
    scope = None if current is not None and current.scope_name not in (
        'mmengine', ) else 'mmpose'
    with DefaultScope.overwrite_default_scope(scope):
        return [
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in transforms
        ]


def load_coco_json(ann_file: str) -> dict:
    """Read a COCO-style keypoint annotation file with readable errors.

    Args:
        ann_file (str): Path to the JSON file.

    Returns:
        dict: The parsed file, with ``images``, ``annotations`` and
        ``categories`` lists.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file is not JSON, lacks one of the three lists, or
            breaks the schema (:func:`.coco_schema.check_coco_keypoints`).
    """
    data = read_json_object(ann_file, 'Annotation file')
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(data.get(key), list):
            raise UserError(f'Annotation file {ann_file} has no "{key}" '
                            'list (COCO format expected)')
    check_coco_keypoints(data, ann_file)
    return data


def clip_bbox_xywh(bbox: Sequence[float], img_w: float,
                   img_h: float) -> Optional[np.ndarray]:
    """Clip a COCO xywh bbox to the image as the MP-100 protocol does.

    ``x1 = max(0, x)``, ``x2 = min(W - 1, x1 + max(0, w - 1))`` (same for y).

    Returns:
        np.ndarray | None: ``[x1, y1, x2, y2]`` (float32) or None where the
        clipped box is empty (``x2 <= x1`` or ``y2 <= y1``).
    """
    x, y, w, h = (float(v) for v in bbox[:4])
    x1, y1 = max(0., x), max(0., y)
    x2 = min(img_w - 1., x1 + max(0., w - 1.))
    y2 = min(img_h - 1., y1 + max(0., h - 1.))
    if x2 <= x1 or y2 <= y1:
        return None
    return np.array([x1, y1, x2, y2], dtype=np.float32)


def parse_mp100_instances(data: dict,
                          ann_file: str,
                          img_prefix: str,
                          dataset_name: str = 'mp100') -> tuple:
    """Turn a COCO keypoint dict into the MP-100 instance list.

    Images in file order, then each image's non-crowd annotations in file
    order; an instance is kept when its clipped bbox is non-empty, its
    ``area`` (when given) is positive and at least one keypoint has v > 0.

    Args:
        data (dict): The parsed annotation file.
        ann_file (str): Its path, named in error messages.
        img_prefix (str): Folder joined with each image ``file_name``.
        dataset_name (str): Stored in every instance. Defaults to 'mp100'.

    Returns:
        tuple: ``(instances, categories)``: the instance dicts (mmpose
        top-down format) and an ordered dict ``category_id -> dict(id, name,
        supercategory, keypoints, skeleton, num_keypoints)`` in file order,
        with the optional per-keypoint lists ``keypoint_kinds`` and
        ``keypoint_words`` (the toy look-alike world's) where the file
        gives them.
    """
    categories = OrderedDict()
    for cat in data['categories']:
        categories[cat['id']] = dict(
            id=cat['id'],
            name=cat.get('name', str(cat['id'])),
            supercategory=cat.get('supercategory'),
            keypoints=list(cat.get('keypoints') or []),
            skeleton=list(cat.get('skeleton') or []),
            num_keypoints=None,
            **{
                key: [str(v) for v in cat[key]]
                for key in ('keypoint_kinds', 'keypoint_words')
                if isinstance(cat.get(key), list)
            })

    # K per category from the annotations; every annotation must agree.
    for ann in data['annotations']:
        cat = categories.get(ann.get('category_id'))
        if cat is None:
            raise UserError(
                f'{ann_file}: annotation id {ann.get("id")} has category_id '
                f'{ann.get("category_id")} which is not in "categories"')
        kpts = ann.get('keypoints')
        if kpts is None:
            continue
        if len(kpts) % 3 != 0:
            raise UserError(
                f'{ann_file}: annotation id {ann.get("id")} (category '
                f'"{cat["name"]}", id {cat["id"]}) has {len(kpts)} keypoint '
                'values, not a multiple of 3')
        k = len(kpts) // 3
        if cat['num_keypoints'] is None:
            cat['num_keypoints'] = k
        elif cat['num_keypoints'] != k:
            raise UserError(
                f'{ann_file}: annotation id {ann.get("id")} (category '
                f'"{cat["name"]}", id {cat["id"]}) has {k} keypoints but '
                f'other annotations of that category have '
                f'{cat["num_keypoints"]}')
    for cat in categories.values():
        if cat['num_keypoints'] is None:  # no annotation: trust the names
            cat['num_keypoints'] = len(cat['keypoints'])

    # offset of each category's first keypoint in the concatenation of all
    # categories' keypoints (annotation order): one prompt per base keypoint
    offset = 0
    for cat in categories.values():
        cat['keypoint_offset'] = offset
        offset += cat['num_keypoints']

    images = OrderedDict((img['id'], img) for img in data['images'])
    img_to_anns = {img_id: [] for img_id in images}
    for ann in data['annotations']:
        if ann.get('image_id') not in img_to_anns:
            raise UserError(
                f'{ann_file}: annotation id {ann.get("id")} '
                f'refers to unknown image_id {ann.get("image_id")}')
        img_to_anns[ann['image_id']].append(ann)

    instances = []
    for img_id, img in images.items():
        for ann in img_to_anns[img_id]:
            if ann.get('iscrowd', 0) or 'bbox' not in ann:
                continue
            if 'keypoints' not in ann or ann.get('num_keypoints', 1) == 0:
                continue
            if 'area' in ann and not ann['area'] > 0:
                continue
            bbox = clip_bbox_xywh(ann['bbox'], img['width'], img['height'])
            if bbox is None:
                continue
            kpts = annotation_keypoints(
                ann, f'{ann_file}: annotation id {ann.get("id")}')
            visible = np.minimum(1., kpts[:, 2])
            if not (visible > 0).any():
                continue
            cat = categories[ann['category_id']]
            k = cat['num_keypoints']
            instances.append(
                dict(
                    img_path=osp.join(img_prefix, img['file_name']),
                    img_id=img_id,
                    id=ann['id'],
                    bbox=bbox[None],  # [1, 4] xyxy
                    bbox_score=np.ones(1, dtype=np.float32),
                    keypoints=kpts[None, :, :2].copy(),  # [1, K, 2]
                    keypoints_visible=visible[None].astype(np.float32),
                    category_id=cat['id'],
                    category_name=cat['name'],
                    num_keypoints=k,
                    keypoint_offset=cat['keypoint_offset'],
                    skeleton=cat['skeleton'],
                    flip_indices=list(range(k)),
                    dataset_name=dataset_name))
    return instances, categories


def sample_episodes(instances_per_category: Dict[int, List[int]],
                    category_names: Dict[int, str],
                    shots: int,
                    num_queries: int,
                    num_episodes: int,
                    seed: int = 1) -> List[dict]:
    """Draw the episodes of the MP-100 protocol.

    For each category (in the given order), for each episode,
    ``random.sample(instances, shots + num_queries)``: the first ``shots``
    are the support, the rest the queries. Uses a private
    ``random.Random(seed)``, which draws exactly what ``random.seed(seed)``
    followed by ``random.sample`` draws, without touching global state.

    Returns:
        list[dict]: ``dict(episode_id, category_id, support_idx, query_idx)``
        with indices into the instance list.
    """
    rng = random.Random(seed)
    episodes = []
    need = shots + num_queries
    for cat_id, inst_ids in instances_per_category.items():
        if len(inst_ids) < need:
            raise UserError(
                f'Category "{category_names[cat_id]}" (id {cat_id}) has '
                f'{len(inst_ids)} valid instances, fewer than shots + '
                f'num_queries = {shots} + {num_queries} = {need}')
        for _ in range(num_episodes):
            drawn = rng.sample(inst_ids, need)
            episodes.append(
                dict(
                    episode_id=len(episodes),
                    category_id=cat_id,
                    support_idx=drawn[:shots],
                    query_idx=drawn[shots:]))
    return episodes


@DATASETS.register_module()
class MP100Dataset(BaseDataset):
    """MP-100 for category-agnostic pose estimation, in MMPose format.

    ``mode='train'``: one sample per instance, through ``pipeline``.
    ``mode='val'|'test'``: one sample per episode (``shots`` supports +
    ``num_queries`` queries of one category), drawn as in CapeFormer /
    POMNet; supports go through ``pipeline``, queries through
    ``query_pipeline``. See ``docs/dataset_prep.md`` (the benchmark protocol).

    Args:
        ann_file (str): COCO-format annotation file (relative to
            ``data_root`` unless absolute).
        data_root (str): Root folder. Defaults to ''.
        data_prefix (dict): ``img`` folder, relative to ``data_root``.
            Defaults to ``dict(img='images/')``.
        mode (str): 'train', 'val' or 'test'. Defaults to 'train'.
        shots (int): Support images per episode. Defaults to 1.
        num_queries (int): Queries per episode. Defaults to 15.
        num_episodes (int): Episodes per category. Defaults to 200.
        pipeline (list): Transforms for training samples and supports.
        query_pipeline (list, optional): Transforms for queries. Defaults
            to ``pipeline``.
        seed_random (int): Seed of the episode draw. Defaults to 1.
        seed_numpy (int): The protocol's numpy seed; ``np.random`` takes no
            part in the draw, so it is kept for the record only.
            Defaults to 0.
        test_mode (bool, optional): Defaults to ``mode != 'train'``.
        metainfo (dict, optional): Extra meta information.
        **kwargs: Passed to :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO: dict = dict(dataset_name='mp100')

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 mode: str = 'train',
                 shots: int = 1,
                 num_queries: int = 15,
                 num_episodes: int = 200,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 query_pipeline: Optional[Sequence[Union[dict,
                                                         Callable]]] = None,
                 seed_random: int = 1,
                 seed_numpy: int = 0,
                 test_mode: Optional[bool] = None,
                 metainfo: Optional[dict] = None,
                 **kwargs):
        if mode not in MODES:
            raise UserError(f'mode must be one of {MODES}, got {mode!r}')
        for key, value in (('shots', shots), ('num_queries', num_queries),
                           ('num_episodes', num_episodes)):
            if not is_int(value) or value < 1:
                raise UserError(
                    f'MP100Dataset: {key} must be an integer >= 1, got '
                    f'{value!r} (<train|val|test>_dataloader.dataset.{key} '
                    'in the config)')
        self.mode = mode
        self.episodic = mode != 'train'
        self.shots = shots
        self.num_queries = num_queries
        self.num_episodes = num_episodes
        self.seed_random = seed_random
        self.seed_numpy = seed_numpy
        self.instances: List[dict] = []
        self.categories: Dict[int, dict] = OrderedDict()
        if test_mode is None:
            test_mode = self.episodic
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=data_prefix or dict(img='images/'),
            pipeline=build_pipeline(pipeline),
            test_mode=test_mode,
            **kwargs)
        self.query_pipeline = (
            self.pipeline if query_pipeline is None else Compose(
                build_pipeline(query_pipeline)))

    @property
    def num_total_keypoints(self) -> int:
        """Keypoints of all categories of the file, concatenated."""
        return sum(c['num_keypoints'] for c in self.categories.values())

    def load_data_list(self) -> List[dict]:
        """Parse the file; build the instance list and, when episodic, the
        episode list (deterministic, same in every process)."""
        data = load_coco_json(self.ann_file)
        self.instances, self.categories = parse_mp100_instances(
            data, self.ann_file, self.data_prefix.get('img', ''),
            self._metainfo.get('dataset_name', 'mp100'))
        self._metainfo.update(
            classes=tuple(c['name'] for c in self.categories.values()),
            category_ids=tuple(self.categories),
            num_keypoints_per_category={
                cid: c['num_keypoints']
                for cid, c in self.categories.items()
            },
            num_total_keypoints=self.num_total_keypoints)
        if not self.episodic:
            return list(self.instances)  # mmengine clears data_list
        per_cat = OrderedDict((cid, []) for cid in self.categories)
        for i, inst in enumerate(self.instances):
            per_cat[inst['category_id']].append(i)
        names = {cid: c['name'] for cid, c in self.categories.items()}
        return sample_episodes(per_cat, names, self.shots, self.num_queries,
                               self.num_episodes, self.seed_random)

    def get_data_info(self, idx: int) -> dict:
        """Training: a copy of the instance. Episodic: ``dict(episode_id,
        category_id, support=[inst...], query=[inst...])``."""
        info = super().get_data_info(idx)
        if self.episodic:
            info['support'] = [
                _copy_instance(self.instances[i]) for i in info['support_idx']
            ]
            info['query'] = [
                _copy_instance(self.instances[i]) for i in info['query_idx']
            ]
        return info

    @staticmethod
    def _check_image(inst: dict) -> None:
        """Measure the image before the pipeline decodes it (the guarded
        decoder's checks: format, size from the header, completeness)."""
        if not exists(inst['img_path']):
            raise MissingFileError(
                f'Image file not found: {inst["img_path"]} (annotation id '
                f'{inst["id"]}, category "{inst["category_name"]}")')
        if '://' not in str(inst['img_path']):  # a local file
            measure_image(
                inst['img_path'],
                f'image {inst["img_path"]} (annotation id {inst["id"]}, '
                f'category "{inst["category_name"]}")')

    def _run(self, pipeline: Callable, inst: dict) -> dict:
        self._check_image(inst)
        try:
            packed = pipeline(inst)
        except Exception:
            if cv2.imread(inst['img_path']) is None:  # measured already
                raise UserError(
                    f'cannot decode image {inst["img_path"]} (annotation id '
                    f'{inst["id"]}, category "{inst["category_name"]}"): '
                    'the file is empty or not an image') from None
            raise
        if packed is None:
            raise RuntimeError(f'The pipeline dropped {inst["img_path"]} '
                               f'(annotation id {inst["id"]})')
        return packed

    def prepare_data(self, idx: int) -> dict:
        """Run the pipeline(s).

        Returns:
            dict: Training: mmpose's packed ``dict(inputs, data_samples)``
            with ``keypoint_offset``, ``num_keypoints``, ``category_id`` and
            ``category_name`` in the sample's metainfo. Episodic:
            ``dict(inputs=Tensor[S+Q, 3, H, W], data_samples=[S+Q samples])``
            with supports first; see the class docs for the metainfo.
        """
        info = self.get_data_info(idx)
        if not self.episodic:
            packed = self._run(self.pipeline, info)
            packed['data_samples'].set_metainfo(
                dict(
                    keypoint_offset=info['keypoint_offset'],
                    num_keypoints=info['num_keypoints'],
                    category_id=info['category_id'],
                    category_name=info['category_name']))
            return packed

        support, query = info['support'], info['query']
        cat = self.categories[info['category_id']]
        meta = dict(
            episode_id=info['episode_id'],
            num_shots=len(support),
            category_id=cat['id'],
            category_name=cat['name'],
            num_keypoints=cat['num_keypoints'],
            keypoint_names=list(cat['keypoints']),
            **{
                key: list(cat[key])
                for key in ('keypoint_kinds', 'keypoint_words') if key in cat
            })
        return pack_episode(support, query, self.pipeline, self.query_pipeline,
                            meta, self._run)
