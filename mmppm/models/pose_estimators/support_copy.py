# Copyright (c) mmppm contributors. All rights reserved.
"""The "support copy" baseline: no model at all."""
from typing import Optional

import numpy as np
from mmpose.registry import MODELS
from torch import Tensor

from ..utils import support_crop_keypoints
from .base import BaseEpisodicEstimator
from .episodes import pack_query_predictions, split_episode


@MODELS.register_module()
class SupportCopyBaseline(BaseEpisodicEstimator):
    """Predict each query keypoint at the support keypoint's crop position.

    The position relative to the (padded) bbox crop is copied from the
    support(s) to the query (mean over the shots where it is visible). It
    measures how much an episode can be solved by the pose prior alone; PPM
    must beat it. Runs in the same test loop and metric as PPM.
    """

    def predict_episode(self,
                        images: Tensor,
                        samples: list,
                        output_heatmaps: Optional[bool] = None) -> list:
        """Predict the queries of one episode (it has no maps:
        ``output_heatmaps`` is ignored)."""
        supports, queries = split_episode(samples)
        crop_kpts, visible = support_crop_keypoints(supports)
        weights = visible.astype(np.float32)[..., None]
        mean = (crop_kpts * weights).sum(0) / np.maximum(weights.sum(0),
                                                         1)  # [K, 2]
        scores = weights.max(0)[:, 0]  # [K]: seen in any support
        return pack_query_predictions(queries,
                                      np.repeat(mean[None], len(queries), 0),
                                      np.repeat(scores[None], len(queries), 0))
