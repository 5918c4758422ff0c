# Copyright (c) mmppm contributors. All rights reserved.
"""Synthetic episodes (random images, Gaussian targets) for model tests."""
import numpy as np
import torch
from mmengine.structures import InstanceData, PixelData
from mmpose.codecs.utils import generate_gaussian_heatmaps
from mmpose.structures import PoseDataSample

CROP = 32  # crop / map size of the synthetic episodes


def make_sample(role, kpts, vis, center=(50., 40.), scale=(64., 64.)):
    kpts = np.asarray(kpts, np.float32)
    vis = np.asarray(vis, np.float32)
    s = PoseDataSample(
        metainfo=dict(
            episode_id=3,
            episode_role=role,
            category_name='toy',
            input_size=(CROP, CROP),
            input_center=np.asarray(center, np.float32),
            input_scale=np.asarray(scale, np.float32)))
    s.gt_instances = InstanceData(
        keypoints=kpts[None], keypoints_visible=vis[None])
    heatmaps, weights = generate_gaussian_heatmaps((CROP, CROP), kpts[None],
                                                   vis[None], 2.0)
    s.gt_fields = PixelData(heatmaps=heatmaps)
    s.gt_instance_labels = InstanceData(keypoint_weights=weights)
    return s


def make_episode(shots=1, queries=2, k=3, seed=0, vis=None):
    rng = np.random.RandomState(seed)
    images = torch.from_numpy(
        rng.rand(shots + queries, 3, CROP, CROP).astype(np.float32)) * 2 - 1
    samples = []
    for i in range(shots + queries):
        kp = rng.uniform(4, CROP - 4, size=(k, 2))
        v = np.ones(k) if vis is None or i >= shots else vis[i]
        samples.append(make_sample('support' if i < shots else 'query', kp, v))
    return images, samples


def fit_inputs(shots=2, queries=3, k=3):
    """Random fit inputs: images ``[S + Q, 3, CROP, CROP]`` in [-1, 1],
    random (not Gaussian) targets ``[S, K, CROP, CROP]`` and visibility
    ``[S, K]`` with one support keypoint hidden (5 visible pairs with the
    defaults)."""
    g = torch.Generator().manual_seed(0)
    images = torch.rand(shots + queries, 3, CROP, CROP, generator=g) * 2 - 1
    targets = torch.rand(shots, k, CROP, CROP, generator=g)
    visible = torch.ones(shots, k)
    visible[1, 0] = 0
    return images, targets, visible
