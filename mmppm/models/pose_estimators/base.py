# Copyright (c) mmppm contributors. All rights reserved.
"""The base of the episodic estimators (PPM and the baselines), as mmpose's
``BasePoseEstimator`` is the base of its pose estimators: ``forward`` and
the mode dispatch, the data preprocessor, and the episode loop of
``predict``; a subclass adds only what differs, its
:meth:`~BaseEpisodicEstimator.predict_episode` (and ``loss`` where it
trains)."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional

from mmengine.model import BaseModel
from torch import Tensor

from ..data_preprocessors import build_data_preprocessor


class BaseEpisodicEstimator(BaseModel, metaclass=ABCMeta):
    """Category-agnostic pose estimation one episode at a time.

    A batch is a list of episodes: ``inputs[i]`` the images ``[S + Q, 3, H,
    W]`` of episode ``i`` (supports first), ``data_samples[i]`` its samples
    (``episode_role`` ``'support'`` / ``'query'`` in their metainfo, made by
    :class:`~mmppm.datasets.MP100Dataset` and ``episode_collate``).

    Args:
        data_preprocessor (dict, optional): Defaults to
            ``EpisodeDataPreprocessor``.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=build_data_preprocessor(data_preprocessor),
            init_cfg=init_cfg)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        """``'predict'``: the queries of every episode with their
        predictions; ``'loss'``: a dict of losses (estimators that train);
        ``'tensor'``: none of these estimators has a raw-tensor output."""
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            raise NotImplementedError(
                f"{type(self).__name__} has no 'tensor' mode: use 'predict' "
                "(episodes) or 'loss' (training, where the estimator trains)")
        raise RuntimeError(f'Invalid mode "{mode}"')

    def loss(self, inputs, data_samples) -> Dict[str, Tensor]:
        """Training losses; the training-free estimators have none."""
        raise RuntimeError(f'{type(self).__name__} only predicts (it has '
                           'nothing to train)')

    def predict(self, inputs: List[Tensor], data_samples: List[list]) -> list:
        """Predict the queries of each episode. An ``output_heatmaps`` flag
        in an episode's first sample's metainfo (set by
        ``EpisodeVisualizationHook``) keeps that episode's maps. ``inputs``
        may be None for an estimator that reads no pixels (the support
        copy)."""
        if inputs is None:
            inputs = [None] * len(data_samples)
        results = []
        for images, samples in zip(inputs, data_samples):
            flag = samples[0].metainfo.get('output_heatmaps')
            results.extend(
                self.predict_episode(
                    images,
                    samples,
                    output_heatmaps=None if flag is None else bool(flag)))
        return results

    @abstractmethod
    def predict_episode(self,
                        images: Tensor,
                        samples: list,
                        output_heatmaps: Optional[bool] = None) -> list:
        """The queries of one episode with ``pred_instances`` (keypoints in
        original image pixels) and, with ``output_heatmaps``, their maps in
        ``pred_fields.heatmaps`` (None: the estimator's default)."""
