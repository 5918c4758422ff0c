# Copyright (c) mmppm contributors. All rights reserved.
"""What the episodic estimators share: reading an episode's samples and
packing the queries' predictions (in original image pixels)."""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from mmppm.utils.errors import UserError
from ..utils import crop_to_image, map_loss_vs_zero


def split_episode(samples: Sequence) -> Tuple[list, list]:
    """``(supports, queries)`` of an episode whose supports come first
    (``episode_role`` metainfo)."""
    roles = [s.metainfo.get('episode_role', 'query') for s in samples]
    num_shots = roles.count('support')
    if num_shots == 0 or roles[:num_shots] != ['support'] * num_shots:
        raise UserError('An episode must list its support samples first '
                        f'(episode_role metainfo), got roles {roles}')
    return list(samples[:num_shots]), list(samples[num_shots:])


def support_targets(samples: Sequence) -> Tuple[Tensor, Tensor]:
    """Gaussian heatmaps ``[S, K, H, W]`` and visibility ``[S, K]`` (the
    target's weight times v > 0) of support samples."""
    if any('heatmaps' not in s.get('gt_fields', {}) for s in samples):
        raise UserError(
            'Support samples carry no Gaussian heatmaps: add '
            "dict(type='GenerateTarget', encoder=dict(type='MSRAHeatmap', "
            '...)) before PackPoseInputs in the support pipeline (see '
            'configs/_base_/datasets/mp100_episodes.py).')
    heatmaps = np.stack([np.asarray(s.gt_fields.heatmaps) for s in samples])
    weights = np.stack([
        np.asarray(s.gt_instance_labels.keypoint_weights).reshape(-1) *
        (np.asarray(s.gt_instances.keypoints_visible).reshape(-1) > 0)
        for s in samples
    ])
    return torch.from_numpy(heatmaps), torch.from_numpy(weights)


def pck_bbox(sample) -> np.ndarray:
    """The sample's GT bbox (xyxy) for PCK; without one, the crop window."""
    if 'bboxes' in sample.gt_instances:
        return np.asarray(sample.gt_instances.bboxes, np.float32)[0]
    center = np.asarray(sample.metainfo['input_center'], np.float32)
    scale = np.asarray(sample.metainfo['input_scale'], np.float32)
    return np.concatenate([center - scale / 2, center + scale / 2])


def support_ground_truth(supports: Sequence) -> dict:
    """``support_keypoints`` ``[S, K, 2]``, ``support_bboxes`` ``[S, 4]``
    (as PCK uses them) and ``support_keypoints_visible`` ``[S, K]``: what
    scoring the supports' own predictions needs (the fit diagnostics)."""
    return dict(
        support_keypoints=np.stack([
            np.asarray(s.gt_instances.keypoints, np.float32)[0]
            for s in supports
        ]),
        support_bboxes=np.stack([pck_bbox(s) for s in supports]),
        support_keypoints_visible=np.stack([
            np.asarray(s.gt_instances.keypoints_visible,
                       np.float32).reshape(-1) for s in supports
        ]))


def supports_as_queries(images: Tensor, supports: Sequence):
    """``test_cfg.predict_supports``: each support image becomes a query
    of its episode."""
    num_shots = len(supports)
    visible = support_ground_truth(supports)['support_keypoints_visible']
    queries = []
    for s in supports:
        q = s.clone()
        q.set_metainfo(
            dict(episode_role='query', support_keypoints_visible=visible))
        queries.append(q)
    return torch.cat([images[:num_shots], images[:num_shots]]), queries


def to_image_pixels(keypoints: np.ndarray,
                    samples: Sequence,
                    dtype=np.float32) -> np.ndarray:
    """Keypoints ``[N, K, 2]`` in crop pixels -> each sample's original
    image pixels (the inverse of its crop transform)."""
    return np.stack([
        crop_to_image(k, s.metainfo['input_center'], s.metainfo['input_scale'],
                      s.metainfo['input_size'])
        for k, s in zip(keypoints, samples)
    ]).astype(dtype)


def pack_query_predictions(queries: Sequence,
                           keypoints: np.ndarray,
                           scores: np.ndarray,
                           maps: Optional[Tensor] = None,
                           meta: Optional[dict] = None) -> List:
    """The queries with ``pred_instances`` (``keypoints`` ``[1, K, 2]`` in
    original image pixels, ``keypoint_scores`` ``[1, K]``), optionally
    ``pred_fields.heatmaps`` ``[K, H, W]`` and extra metainfo.

    Args:
        queries (Sequence[PoseDataSample]): The episode's queries.
        keypoints (np.ndarray): ``[Q, K, 2]`` in crop pixels.
        scores (np.ndarray): ``[Q, K]``.
        maps (Tensor, optional): ``[Q, K, H, W]`` to keep.
        meta (dict, optional): Metainfo set on every result.
    """
    image_xy = to_image_pixels(keypoints, queries)
    results = []
    for i, sample in enumerate(queries):
        out = sample.clone()
        if meta:
            out.set_metainfo(meta)
        out.pred_instances = InstanceData(
            keypoints=image_xy[i][None],
            keypoint_scores=np.asarray(scores[i], np.float32)[None])
        if maps is not None:
            out.pred_fields = PixelData(heatmaps=maps[i].cpu())
        results.append(out)
    return results


def fit_diagnostics(head, support_maps: Tensor, supports: list,
                    targets: Tensor, visible: Tensor) -> dict:
    """The supports predicted by their own prompts (docs/method.md, "Fit
    diagnostics"): image-pixel keypoints ``fit_keypoints`` decoded by
    ``head`` from ``support_maps`` ``[S, K, H, W]`` and the map loss over
    that of an all-zero map; the metric scores them as it scores queries."""
    keypoints, _ = head.decode(support_maps)  # [S, K, 2] crop px

    def objective(m, t):
        return head.loss_module(torch.from_numpy(m),
                                torch.from_numpy(t)).numpy()

    return dict(
        fit_keypoints=to_image_pixels(keypoints, supports, np.float64),
        fit_map_loss_vs_zero=map_loss_vs_zero(support_maps.cpu().numpy(),
                                              targets.cpu().numpy(),
                                              visible.cpu().numpy(),
                                              objective),
        **{
            k: v
            for k, v in support_ground_truth(supports).items()
            if k != 'support_keypoints_visible'
        })
