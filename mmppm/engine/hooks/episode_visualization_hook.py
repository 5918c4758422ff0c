# Copyright (c) mmppm contributors. All rights reserved.
"""Pictures of the first test episodes (``tools/test.py --show-dir``)."""
import os.path as osp
import re
from typing import Optional, Sequence

import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpose.registry import HOOKS

from mmppm.utils import to_numpy
from mmppm.utils.errors import UserError
from mmppm.visualization import (draw_keypoints, draw_maps_grid, label_panel,
                                 save_rgb, side_by_side, skeleton_zero_based)


@HOOKS.register_module()
class EpisodeVisualizationHook(Hook):
    """Save pictures of the first ``max_episodes`` test episodes.

    For each episode, in ``{out_dir}/episode_{id:05d}_{category}/``:

    - ``support_{i}.png``: support image ``i`` with its keypoints;
    - ``query_{j}.png``: query ``j``, ground truth (left) and prediction
      (right), in the original image;
    - ``query_{j}_maps.png``: each keypoint's attention map over the query
      crop (with ``draw_maps``).

    The hook asks the model for the maps of the episodes it draws only
    (maps are large), with an ``output_heatmaps`` flag in the episode's
    metainfo; the model's ``test_cfg`` is not touched. Episodes replayed from
    a :class:`ResumableTestLoop` cache have no maps (the cache keeps
    keypoints only). Each process draws its own first episodes.

    Args:
        max_episodes (int): Episodes to draw (per process). Defaults to 10.
        out_dir (str, optional): Output folder; a relative one is placed in
            ``{work_dir}/{timestamp}/`` (as mmpose's
            ``PoseVisualizationHook`` does). Defaults to ``'vis'``.
        max_queries (int, optional): Queries drawn per episode. Defaults to
            None (all).
        draw_maps (bool): Write the map grids. Defaults to True.
        show_kpt_idx (bool): Write keypoint indices. Defaults to False.
    """

    priority = 'LOW'

    def __init__(self,
                 max_episodes: int = 10,
                 out_dir: Optional[str] = None,
                 max_queries: Optional[int] = None,
                 draw_maps: bool = True,
                 show_kpt_idx: bool = False) -> None:
        if max_episodes < 0:
            raise UserError(f'max_episodes must be >= 0, got {max_episodes}')
        self.max_episodes = max_episodes
        self.out_dir = out_dir or 'vis'
        self.max_queries = max_queries
        self.draw_maps = draw_maps
        self.show_kpt_idx = show_kpt_idx
        self.num_drawn = 0
        self.saved: list = []

    @staticmethod
    def _model(runner):
        return getattr(runner.model, 'module', runner.model)

    def before_test(self, runner) -> None:
        self.num_drawn = 0
        self.saved = []
        self.root = osp.join(runner.work_dir, runner.timestamp, self.out_dir)
        dataset = getattr(runner.test_dataloader, 'dataset', None)
        self._categories = getattr(dataset, 'categories', None) or {}

    def before_test_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None) -> None:
        """Ask for the maps of the episodes to draw: an ``output_heatmaps``
        flag in their first sample's metainfo (the model reads it; its
        ``test_cfg`` is never changed)."""
        if not (self.draw_maps and data_batch
                and self.num_drawn < self.max_episodes):
            return
        for samples in data_batch.get('data_samples') or []:
            if isinstance(samples, (list, tuple)) and samples:
                samples[0].set_metainfo(dict(output_heatmaps=True))

    def after_test(self, runner) -> None:
        if self.saved:
            print_log(
                f'EpisodeVisualizationHook: {len(self.saved)} pictures '
                f'of {self.num_drawn} episodes in {self.root}',
                logger='current')

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        if self.num_drawn >= self.max_episodes or not data_batch:
            return
        outputs = list(outputs or [])
        for crops, samples in zip(data_batch['inputs'],
                                  data_batch['data_samples']):
            if self.num_drawn >= self.max_episodes:
                return
            episode_id = samples[0].metainfo.get('episode_id')
            preds = [
                o for o in outputs
                if o.metainfo.get('episode_id') == episode_id
            ] if len(data_batch['inputs']) > 1 else outputs
            self._draw_episode(to_numpy(crops), samples, preds)
            self.num_drawn += 1

    def _skeleton(self, meta: dict, num_kpts: int) -> list:
        cat = self._categories.get(meta.get('category_id'), {})
        try:
            return skeleton_zero_based(cat.get('skeleton'), num_kpts)
        except ValueError:
            return []

    def _image(self, meta: dict):
        from mmppm.utils.errors import UserError
        from mmppm.utils.image_decoder import decode_image
        path = meta.get('img_path')
        try:
            return decode_image(str(path), 'image')
        except UserError as e:  # missing or refused: no picture of it
            print_log(
                f'EpisodeVisualizationHook: cannot read image {path} '
                f'({e})',
                logger='current')
            return None

    def _draw_episode(self, crops: np.ndarray, samples: Sequence,
                      preds: Sequence) -> None:
        meta = samples[0].metainfo
        name = re.sub(r'[^\w.-]+', '_', str(meta.get('category_name', '')))
        folder = osp.join(
            self.root, f'episode_{int(meta.get("episode_id", 0)):05d}_'
            f'{name}')
        supports = [
            s for s in samples if s.metainfo.get('episode_role') == 'support'
        ]
        num_kpts = int(
            meta.get('num_keypoints')
            or to_numpy(supports[0].gt_instances.keypoints).shape[1])
        skeleton = self._skeleton(meta, num_kpts)
        draw = dict(skeleton=skeleton, show_kpt_idx=self.show_kpt_idx)

        def gt_picture(img, sample):
            gt = sample.gt_instances
            return draw_keypoints(img,
                                  to_numpy(gt.keypoints)[0],
                                  to_numpy(gt.keypoints_visible)[0], **draw)

        for i, sample in enumerate(supports):
            img = self._image(sample.metainfo)
            if img is not None:
                self.saved.append(
                    save_rgb(
                        gt_picture(img, sample),
                        osp.join(folder, f'support_{i}.png')))
        num_q = len(preds) if self.max_queries is None else min(
            len(preds), self.max_queries)
        for j, pred in enumerate(preds[:num_q]):
            img = self._image(pred.metainfo)
            if img is not None:
                panels = [
                    label_panel(
                        draw_keypoints(
                            img,
                            to_numpy(pred.pred_instances.keypoints)[0],
                            **draw), 'prediction')
                ]
                if 'gt_instances' in pred and \
                        'keypoints' in pred.gt_instances:
                    panels.insert(
                        0, label_panel(gt_picture(img, pred), 'ground truth'))
                self.saved.append(
                    save_rgb(
                        side_by_side(panels), osp.join(folder,
                                                       f'query_{j}.png')))
            if self.draw_maps and 'pred_fields' in pred and \
                    'heatmaps' in pred.pred_fields:
                crop = crops[len(supports) + j].transpose(1, 2, 0)
                grid = draw_maps_grid(
                    np.ascontiguousarray(crop),
                    to_numpy(pred.pred_fields.heatmaps))
                self.saved.append(
                    save_rgb(grid, osp.join(folder, f'query_{j}_maps.png')))
