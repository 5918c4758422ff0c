# Copyright (c) mmppm contributors. All rights reserved.
"""The "support copy" baseline: no model at all."""
import copy

import numpy as np
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from mmpose.registry import MODELS

from ..data_preprocessors import build_data_preprocessor
from ..utils import crop_to_image, image_to_crop


@MODELS.register_module()
class SupportCopyBaseline(BaseModel):
    """Predict each query keypoint at the support keypoint's crop position.

    The position relative to the (padded) bbox crop is copied from the
    support(s) to the query (mean over the shots where it is visible). It
    measures how much an episode can be solved by the pose prior alone; PPM
    must beat it. Runs in the same test loop and metric as PPM.
    """

    def __init__(self, data_preprocessor=None, init_cfg=None):
        super().__init__(
            data_preprocessor=build_data_preprocessor(data_preprocessor),
            init_cfg=init_cfg)

    def forward(self, inputs, data_samples=None, mode: str = 'predict'):
        if mode != 'predict':
            raise RuntimeError('SupportCopyBaseline only predicts')
        results = []
        for samples in data_samples:
            supports = [
                s for s in samples
                if s.metainfo.get('episode_role') == 'support'
            ]
            queries = [
                s for s in samples
                if s.metainfo.get('episode_role') != 'support'
            ]
            crop_kpts, weights = [], []
            for s in supports:
                m = s.metainfo
                crop_kpts.append(
                    image_to_crop(
                        np.asarray(s.gt_instances.keypoints)[0],
                        m['input_center'], m['input_scale'], m['input_size']))
                weights.append(
                    np.asarray(s.gt_instances.keypoints_visible)[0] > 0)
            crop_kpts, weights = np.stack(crop_kpts), np.stack(weights).astype(
                np.float32)[..., None]
            mean = (crop_kpts * weights).sum(0) / np.maximum(
                weights.sum(0), 1)  # [K, 2]
            for q in queries:
                m = q.metainfo
                out = copy.copy(q)
                out.pred_instances = InstanceData(
                    keypoints=crop_to_image(
                        mean, m['input_center'], m['input_scale'],
                        m['input_size'])[None].astype(np.float32),
                    keypoint_scores=weights.max(0)[None, :, 0])
                results.append(out)
        return results
