# Copyright (c) mmppm contributors. All rights reserved.
"""Category-agnostic pose estimation on your own images (MMPose-style API).

:func:`init_cape_model` builds a :class:`~mmppm.models.PPMEstimator` from a
config; :func:`inference_cape` turns support images with keypoints and query
images into one episode -- through the config's test pipelines, so the crops
are the benchmark's -- and returns one ``PoseDataSample`` per query.
"""
import copy
import logging
import os.path as osp
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

from mmppm.datasets import pack_episode
from mmppm.datasets.coco_schema import (annotation_keypoints, check_bbox,
                                        check_keypoint_count)
from mmppm.datasets.json_io import read_json_object
from mmppm.engine.checkpoint_meta import check_prompt_encoder
from mmppm.utils.config_checks import check_config
from mmppm.utils.errors import MissingFileError, UserError, first_line
from mmppm.utils.image_decoder import MAX_IMAGE_PIXELS  # noqa: F401
from mmppm.utils.image_decoder import max_image_pixels  # noqa: F401
from mmppm.utils.image_decoder import check_image_size, decode_image
from mmppm.visualization import skeleton_zero_based

ImageLike = Union[str, Path, np.ndarray]
ImagesLike = Union[ImageLike, Sequence[ImageLike]]


# ------------------------------------------------------------------ model
def init_cape_model(config: Union[str, Path, Config],
                    checkpoint: Optional[str] = None,
                    device: str = 'cpu',
                    cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build a PPM estimator from a config (and load a checkpoint).

    Args:
        config (str | Path | Config): Config file or object (e.g.
            ``configs/ppm/ppm_random-sd_1shot_toy.py``).
        checkpoint (str, optional): Trained weights (CPT: shared prompt and
            MLP). Plain PPM needs none. Defaults to None.
        device (str): Defaults to ``'cpu'``.
        cfg_options (dict, optional): Overrides merged into the config, e.g.
            ``{'model.backbone.pretrained': 'path/or/hub-id'}``.

    Returns:
        nn.Module: The model in eval mode, with the config as ``model.cfg``.

    Raises:
        FileNotFoundError: The config or checkpoint file does not exist.
        ValueError: A config mistake (``ConfigError``, one line: the check
            every door runs, :func:`mmppm.utils.config_checks.check_config`),
            or a checkpoint that cannot be read or does not fit the model.
    """
    if isinstance(config, (str, Path)):
        if not osp.isfile(config):
            raise MissingFileError(f'Config file not found: {config}')
        cfg = Config.fromfile(str(config))
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        raise TypeError('config must be a file name or a Config, got '
                        f'{type(config).__name__}')
    check_device(device)
    # the check tools/train.py and tools/test.py run: --cfg-options keys,
    # component types and arguments, values (docs/user_errors.md)
    check_config(cfg, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        _load_checkpoint(model, checkpoint, cfg.model)
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model


def check_device(device: str) -> None:
    """One error for a device this machine does not have (``cuda``
    without a GPU), before anything is built."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise UserError(f'device {device!r} is not a torch device '
                        f'({first_line(e)}); use cpu or cuda') from None
    if dev.type == 'cuda':
        if not torch.cuda.is_available():
            raise UserError(f'device {device!r}: no CUDA GPU is available '
                            '(torch.cuda.is_available() is False); use '
                            '--device cpu')
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise UserError(f'device {device!r}: this machine has '
                            f'{torch.cuda.device_count()} CUDA device(s)')


def _load_checkpoint(model: torch.nn.Module,
                     checkpoint: str,
                     model_cfg: Optional[dict] = None) -> None:
    """Load ``checkpoint`` into ``model`` (built from ``model_cfg``;
    default: the ``model.cfg`` :func:`init_cape_model` set), refusing a
    damaged file or one trained as another prompt encoder in one line."""
    if model_cfg is None:
        model_cfg = (getattr(model, 'cfg', None) or {}).get('model')
    from mmengine.runner import load_checkpoint

    from mmppm.compat.checkpoint_compat import register_checkpoint_safe_globals
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise MissingFileError(f'Checkpoint not found: {checkpoint}')
    register_checkpoint_safe_globals()
    if '://' not in checkpoint:
        try:  # weights_only: nothing in it can run code
            saved = torch.load(
                checkpoint, map_location='cpu', weights_only=True)
        except Exception as e:  # cut short, random bytes: not "does not fit"
            raise UserError(
                f'Cannot read checkpoint {checkpoint} (damaged or not a '
                f'checkpoint): {type(e).__name__}: {first_line(e)[:120]}'
            ) from None
        # trained as another prompt encoder (a residual Phi as a plain one)
        check_prompt_encoder(
            saved.get('meta') if isinstance(saved, dict) else None, model_cfg,
            checkpoint)
    try:
        load_checkpoint(
            model,
            checkpoint,
            map_location='cpu',
            strict=True,
            logger='silent')
    except (RuntimeError, ValueError, KeyError) as e:
        raise UserError(f'Checkpoint {checkpoint} does not fit the model '
                        f'built from the config: {first_line(e)}') from None
    except Exception as e:  # not a checkpoint at all (pickle, zip errors)
        raise UserError(f'Cannot read checkpoint {checkpoint}: '
                        f'{type(e).__name__}: {first_line(e)}') from None


# ----------------------------------------------------------------- inputs
# The size limit and the guarded decoder (one for every door):
# mmppm.utils.image_decoder (MAX_IMAGE_PIXELS, max_image_pixels and
# check_image_size are imported above and stay importable from here).


def check_image_array(img: np.ndarray, what: str) -> np.ndarray:
    """An array as a BGR uint8 ``[H, W, 3]`` image, or one error saying how
    to convert it (float images in [0, 1] and 16-bit images are refused,
    not silently turned into a black picture)."""
    if img.ndim == 2:
        img = img[..., None].repeat(3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3 or min(img.shape[:2]) < 1:
        raise UserError(f'{what}: expected a BGR array [H, W, 3], got '
                        f'shape {tuple(img.shape)}')
    check_image_size(img.shape[1], img.shape[0], what)
    if img.dtype != np.uint8:
        if np.issubdtype(img.dtype, np.floating):
            hint = ('values in [0, 1]? use (img * 255).round().astype('
                    'np.uint8)' if np.nanmax(img) <= 1 else
                    'use img.round().clip(0, 255).astype(np.uint8)')
        else:
            hint = ('16-bit? use (img // 257).astype(np.uint8)'
                    if img.dtype == np.uint16 else 'convert it to 8-bit BGR')
        raise UserError(f'{what}: expected a uint8 BGR image (0-255), got '
                        f'{img.dtype}; {hint}')
    return img


def load_image(img: ImageLike, what: str = 'image') -> np.ndarray:
    """An image as a BGR uint8 array ``[H, W, 3]``.

    Args:
        img (str | Path | np.ndarray): A file or a BGR uint8 array
            (``[H, W, 3]`` or gray ``[H, W]``).
        what (str): Named in error messages. Defaults to 'image'.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file is refused by the guarded decoder
            (:func:`mmppm.utils.image_decoder.decode_image`: format, size
            read from its header, completeness), or the array has a wrong
            shape or dtype.
    """
    if isinstance(img, np.ndarray):
        return check_image_array(img, what)
    return decode_image(str(img), what)


def _as_list(x) -> list:
    if isinstance(x, (str, Path, np.ndarray)):
        return [x]
    return list(x)


def check_support_lists(data: dict, ann_file: str) -> None:
    """The lists a support keypoint file is read through: ``annotations``
    (objects), and where given ``images`` (objects with ``id`` and a string
    ``file_name``) and ``categories`` (objects); one line naming the first
    entry that is not."""
    for kind, fields in (('annotations', ()), ('images', ('id', 'file_name')),
                         ('categories', ())):
        items = data.get(kind)
        if items is None:
            continue
        if not isinstance(items, list):
            raise UserError(f'{ann_file}: "{kind}" is a '
                            f'{type(items).__name__}, not a list (COCO format '
                            'expected)')
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise UserError(f'{ann_file}: {kind}[{i}] is a '
                                f'{type(item).__name__}, not an object')
            missing = [f for f in fields if f not in item]
            if missing:
                raise UserError(f'{ann_file}: {kind}[{i}] has no '
                                f'"{missing[0]}"')
            if 'file_name' in fields and not isinstance(
                    item['file_name'], str):
                raise UserError(f'{ann_file}: {kind}[{i}] has "file_name": '
                                f'{item["file_name"]!r}; expected a string')


def read_coco_support(ann_file: str,
                      support_imgs: Optional[Sequence] = None) -> dict:
    """Support keypoints (and bboxes, skeleton) from a COCO-style JSON file.

    One annotation per support image. Annotations are matched to support
    image files by their image's ``file_name`` (base name) when every
    support is a path that matches; otherwise they are taken in file order.

    Args:
        ann_file (str): COCO keypoint file.
        support_imgs (Sequence, optional): The support images (paths or
            arrays), to match and count.

    Returns:
        dict: ``keypoints`` ``[S, K, 3]`` (x, y, visibility), ``bboxes``
        (``[S, 4]`` xyxy, or None where an annotation has no bbox),
        ``skeleton`` (0-based links) and ``keypoint_names`` (may be empty).

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: Not COCO JSON, wrong annotation count or keypoint counts
            that differ.
    """
    data = read_json_object(ann_file, 'Support keypoint file')
    check_support_lists(data, ann_file)
    anns = [a for a in data.get('annotations') or [] if a.get('keypoints')]
    if not anns:
        raise UserError(f'{ann_file} has no "annotations" with "keypoints" '
                        '(COCO format expected)')
    images = {img['id']: img for img in data.get('images') or []}
    if support_imgs is not None:
        names = [
            osp.basename(str(s)) if isinstance(s, (str, Path)) else None
            for s in support_imgs
        ]
        by_name = {}
        for a in anns:
            img = images.get(a.get('image_id'))
            if img is not None:
                by_name.setdefault(osp.basename(img['file_name']), a)
        if all(n in by_name for n in names):
            anns = [by_name[n] for n in names]
        elif len(anns) != len(names):
            raise UserError(
                f'{ann_file} has {len(anns)} keypoint annotations for '
                f'{len(names)} support images (need one per support image, '
                'matched by file_name or in order)')
    rows = [
        annotation_keypoints(a, f'{ann_file}: annotation {a.get("id")}')
        for a in anns
    ]
    counts = [len(a['keypoints']) for a in anns]
    if len(set(counts)) != 1:
        raise UserError(f'{ann_file}: keypoint counts differ between '
                        f'annotations or are not multiples of 3: '
                        f'{[c / 3 for c in counts]}')
    kpts = np.stack(rows)  # [S, K, 3]
    num_kpts = kpts.shape[1]
    bboxes = None
    for a in anns:
        if a.get('bbox') is not None:
            check_bbox(a['bbox'], f'{ann_file}: annotation {a.get("id")}')
    if all('bbox' in a for a in anns):
        xywh = np.array([a['bbox'][:4] for a in anns], dtype=np.float32)
        bboxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]],
                                axis=1)
    cats = {c['id']: c for c in data.get('categories') or []}
    cat = cats.get(anns[0].get('category_id'), {})
    return dict(
        keypoints=kpts,
        bboxes=bboxes,
        skeleton=skeleton_zero_based(cat.get('skeleton'), num_kpts),
        keypoint_names=list(cat.get('keypoints') or []))


def load_support_keypoints(path: str) -> np.ndarray:
    """Keypoints ``[K, 2|3]`` or ``[S, K, 2|3]`` from ``.npy`` or text
    (``.txt``/``.csv``: one keypoint per row, ``x y [v]``)."""
    if not osp.isfile(path):
        raise MissingFileError(f'Support keypoint file not found: {path}')
    try:
        if path.endswith('.npy'):
            return np.load(path, allow_pickle=False)
        return np.loadtxt(
            path, delimiter=',' if path.endswith('.csv') else None, ndmin=2)
    except ValueError as e:
        raise UserError(f'Cannot read keypoints from {path}: {e}') from None


def _keypoints_array(kpts, num_shots: int, visible) -> tuple:
    """``[S, K, 2]`` coordinates and ``[S, K]`` visibility."""
    if isinstance(kpts, (list, tuple)) and len(kpts) > 1 and all(
            np.ndim(k) == 2 for k in kpts):  # one [K, 2|3] per support
        counts = [len(k) for k in kpts]
        if len(set(counts)) > 1:
            raise UserError('support_keypoints: the support images have '
                            f'different keypoint counts {counts}')
    try:
        kpts = np.asarray(kpts, dtype=np.float32)
    except (ValueError, TypeError) as e:
        raise UserError('support_keypoints: expected numbers of shape '
                        f'[S, K, 2|3]: {e}') from None
    given_shape = tuple(kpts.shape)
    if kpts.ndim == 2:
        kpts = kpts[None]
    if kpts.ndim != 3 or kpts.shape[2] not in (2, 3) or kpts.shape[1] < 1:
        raise UserError('support_keypoints: expected [K, 2], [K, 3], '
                        f'[S, K, 2] or [S, K, 3], got shape {given_shape}')
    if kpts.shape[0] != num_shots:
        raise UserError(f'support_keypoints has {kpts.shape[0]} sets of '
                        f'keypoints for {num_shots} support images')
    check_keypoint_count(kpts.shape[1], 'support_keypoints')
    vis = (kpts[..., 2] > 0).astype(np.float32) if kpts.shape[2] == 3 \
        else np.ones(kpts.shape[:2], dtype=np.float32)
    if visible is not None:
        given = np.asarray(visible, dtype=np.float32)
        if given.size != vis.size:
            raise UserError(f'support_visible has {given.size} values; '
                            f'support_keypoints has {vis.size} keypoints '
                            f'(shape {tuple(vis.shape)})')
        vis = (given.reshape(vis.shape) > 0).astype(np.float32)
    bad = np.argwhere(~np.isfinite(kpts[..., :2]).all(axis=-1))
    if len(bad):
        s, k = (int(v) for v in bad[0])
        raise UserError(f'support_keypoints: support {s} keypoint {k} is '
                        f'{tuple(float(v) for v in kpts[s, k, :2])} (NaN or '
                        f'infinite; {len(bad)} such keypoint(s))')
    if not (vis > 0).any(axis=1).all():
        raise UserError('Every support image needs at least one visible '
                        'keypoint')
    return kpts[..., :2].copy(), vis


def warn_keypoints_outside(kpts: np.ndarray, vis: np.ndarray,
                           images: List[np.ndarray]) -> List[tuple]:
    """Log one warning per visible support keypoint outside its image
    (usually a swapped x/y or a wrong image); returns ``(support, k)``."""
    outside = []
    for s, (points, img) in enumerate(zip(kpts, images)):
        h, w = img.shape[:2]
        for k, (x, y) in enumerate(points):
            if vis[s, k] > 0 and not (0 <= x < w and 0 <= y < h):
                outside.append((s, k))
                print_log(
                    f'support image {s}: keypoint {k} at ({x:.1f}, {y:.1f}) '
                    f'is outside the {w} x {h} image (swapped x and y?)',
                    logger='current',
                    level=logging.WARNING)
    return outside


def _bboxes(bboxes, images: List[np.ndarray], what: str) -> np.ndarray:
    """``[N, 4]`` xyxy; the whole image where not given."""
    if bboxes is None:
        return np.array([[0, 0, img.shape[1], img.shape[0]] for img in images],
                        dtype=np.float32)
    arr = np.asarray(bboxes, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.shape != (len(images), 4):
        raise UserError(f'{what}: expected {len(images)} boxes [x1, y1, x2, '
                        f'y2], got shape {tuple(np.shape(bboxes))}')
    if not np.isfinite(arr).all():
        raise UserError(f'{what}: boxes must be finite numbers, got '
                        f'{arr.tolist()}')
    if ((arr[:, 2] <= arr[:, 0]) | (arr[:, 3] <= arr[:, 1])).any():
        raise UserError(f'{what}: boxes must be xyxy with x2 > x1, y2 > y1, '
                        f'got {arr.tolist()}')
    return arr


# ---------------------------------------------------------------- episode
def _test_pipelines(cfg: Config) -> tuple:
    from mmppm.datasets.mp100_dataset import build_pipeline
    dataset = cfg.test_dataloader.dataset
    support = Compose(build_pipeline(dataset.pipeline))
    query = dataset.get('query_pipeline')
    return support, (
        support if query is None else Compose(build_pipeline(query)))


def build_cape_episode(cfg: Config,
                       support_imgs: ImagesLike,
                       support_keypoints,
                       query_imgs: ImagesLike,
                       support_bboxes=None,
                       query_bboxes=None,
                       support_visible=None) -> dict:
    """One episode as :class:`~mmppm.datasets.MP100Dataset` produces it.

    Arguments as in :func:`inference_cape` (``support_keypoints`` here as
    an array or a JSON path).

    Returns:
        dict: ``inputs`` (uint8 ``[S + Q, 3, H, W]`` BGR crops) and
        ``data_samples`` (supports first, with the episode metainfo).
    """
    support_list = _as_list(support_imgs)
    query_list = _as_list(query_imgs)
    if not support_list or not query_list:
        raise UserError('Need at least one support and one query image')
    if isinstance(support_keypoints, (str, Path)):
        path = str(support_keypoints)
        if path.endswith('.json'):
            ann = read_coco_support(path, support_list)
            support_keypoints = ann['keypoints']
            if support_bboxes is None:
                support_bboxes = ann['bboxes']
        else:
            support_keypoints = load_support_keypoints(path)
    kpts, vis = _keypoints_array(support_keypoints, len(support_list),
                                 support_visible)
    supports = [
        load_image(img, f'support image {i}')
        for i, img in enumerate(support_list)
    ]
    outside = warn_keypoints_outside(kpts, vis, supports)
    for s in range(len(supports)):
        visible = {k for k in range(vis.shape[1]) if vis[s, k] > 0}
        if visible and visible <= {k for t, k in outside if t == s}:
            h, w = supports[s].shape[:2]
            raise UserError(
                f'support image {s}: all of its {len(visible)} visible '
                f'keypoints lie outside the {w} x {h} image (swapped x and '
                'y? keypoints of another image?): nothing to learn from')
    queries = [
        load_image(img, f'query image {i}') for i, img in enumerate(query_list)
    ]
    num_kpts = kpts.shape[1]
    support_pipeline, query_pipeline = _test_pipelines(cfg)
    meta = dict(
        episode_id=0,
        num_shots=len(supports),
        category_id=0,
        category_name='custom',
        num_keypoints=num_kpts)
    infos = {}
    jobs = (('support', supports, support_list,
             _bboxes(support_bboxes, supports,
                     'support_bboxes')), ('query', queries, query_list,
                                          _bboxes(query_bboxes, queries,
                                                  'query_bboxes')))
    for role, imgs, sources, boxes in jobs:
        infos[role] = []
        for i, (img, src) in enumerate(zip(imgs, sources)):
            info = dict(
                img=img,
                img_path=None if isinstance(src, np.ndarray) else str(src),
                id=i,
                img_id=i,
                bbox=boxes[i:i + 1],
                bbox_score=np.ones(1, dtype=np.float32),
                category_id=0,
                num_keypoints=num_kpts,
                flip_indices=list(range(num_kpts)),
                dataset_name='custom')
            if role == 'support':
                info.update(
                    keypoints=kpts[i:i + 1].copy(),
                    keypoints_visible=vis[i:i + 1].copy())
            infos[role].append(info)
    return pack_episode(infos['support'], infos['query'], support_pipeline,
                        query_pipeline, meta)


@torch.no_grad()
def inference_cape(
    model: torch.nn.Module,
    support_imgs: ImagesLike,
    support_keypoints,
    query_imgs: ImagesLike,
    support_bboxes=None,
    query_bboxes=None,
    support_visible=None,
    return_heatmaps: bool = False,
    fit_diagnostics: Optional[bool] = None,
    progress: Optional[Callable[[int, int],
                                None]] = None) -> List[PoseDataSample]:
    """Find the support keypoints in the query images.

    Args:
        model (nn.Module): From :func:`init_cape_model` (needs ``model.cfg``).
        support_imgs (str | np.ndarray | list): Support image file(s) or BGR
            array(s).
        support_keypoints (np.ndarray | str): ``[K, 2]``/``[K, 3]`` (one
            support) or ``[S, K, 2]``/``[S, K, 3]`` in original pixels (the
            third value is the visibility, 0 = not labelled); or a file: COCO
            JSON (one annotation per support image; its bboxes are used when
            ``support_bboxes`` is None), ``.npy`` or ``.txt``/``.csv``.
        query_imgs (str | np.ndarray | list): Query image file(s)/array(s).
        support_bboxes (array, optional): ``[S, 4]`` xyxy. Defaults to the
            whole images.
        query_bboxes (array, optional): ``[Q, 4]`` xyxy. Defaults to the
            whole images.
        support_visible (array, optional): ``[S, K]`` visibility, overrides
            the keypoints' third column.
        return_heatmaps (bool): Keep each query's maps ``[K, H, W]`` (crop
            pixels) in ``pred_fields.heatmaps``. Defaults to False.
        fit_diagnostics (bool, optional): Also decode the prompts on the
            supports: each result's metainfo then holds ``fit_keypoints``
            ``[S, K, 2]`` with the supports' ground truth (scored by
            :func:`mmppm.evaluation.functional.support_errors`;
            :meth:`PPMEstimator.predict_episode`). Defaults to the config's
            ``test_cfg.fit_diagnostics``.
        progress (callable, optional): ``progress(done, steps)`` after each
            prompt-fitting step (a progress bar, e.g. the web page's).

    Returns:
        list[PoseDataSample]: One per query, with ``pred_instances``
        (``keypoints`` ``[1, K, 2]`` in original image pixels,
        ``keypoint_scores`` ``[1, K]``) and the crop metainfo
        (``input_center``, ``input_scale``, ``input_size``).
    """
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise UserError('model has no .cfg (the config with the test '
                        'pipelines): build it with init_cape_model')
    episode = build_cape_episode(cfg, support_imgs, support_keypoints,
                                 query_imgs, support_bboxes, query_bboxes,
                                 support_visible)
    data = model.data_preprocessor(
        dict(
            inputs=[episode['inputs']],
            data_samples=[episode['data_samples']]), False)
    return model.predict_episode(
        data['inputs'][0],
        data['data_samples'][0],
        output_heatmaps=return_heatmaps,
        fit_diagnostics=fit_diagnostics,
        progress=progress)
