# Copyright (c) mmppm contributors. All rights reserved.
"""One episode as a data sample: the packer the dataset and the inference
API share."""
from typing import Callable, Optional, Sequence

import numpy as np
import torch


def pack_episode(support_infos: Sequence[dict],
                 query_infos: Sequence[dict],
                 support_pipeline: Callable,
                 query_pipeline: Callable,
                 meta: dict,
                 run: Optional[Callable] = None) -> dict:
    """Run the pipelines over an episode's instances and stack them.

    Args:
        support_infos (Sequence[dict]): Support instances (with
            ``keypoints_visible`` ``[1, K]``), in order.
        query_infos (Sequence[dict]): Query instances.
        support_pipeline (Callable): Transforms of the supports (they need
            Gaussian targets).
        query_pipeline (Callable): Transforms of the queries.
        meta (dict): Metainfo of every sample (``episode_id``,
            ``num_shots``, ``category_id``, ``category_name``,
            ``num_keypoints``); ``episode_role`` is added, and to queries
            ``support_keypoints_visible`` ``[S, K]`` (from the annotations:
            transforms do not change visibility).
        run (Callable, optional): ``run(pipeline, info) -> packed``, e.g.
            with error checks. Defaults to ``pipeline(info)``.

    Returns:
        dict: ``inputs`` (``[S + Q, 3, H, W]``) and ``data_samples``
        (supports first).
    """
    run = run or (lambda pipeline, info: pipeline(info))
    support_vis = np.concatenate(
        [np.asarray(info['keypoints_visible']) for info in support_infos],
        axis=0)  # [S, K]
    inputs, samples = [], []
    for role, infos, pipeline in (('support', support_infos, support_pipeline),
                                  ('query', query_infos, query_pipeline)):
        for info in infos:
            packed = run(pipeline, info)
            sample = packed['data_samples']
            sample.set_metainfo(dict(meta, episode_role=role))
            if role == 'query':
                sample.set_metainfo(
                    dict(support_keypoints_visible=support_vis.copy()))
            inputs.append(packed['inputs'])
            samples.append(sample)
    return dict(inputs=torch.stack(inputs), data_samples=samples)
