# Copyright (c) mmppm contributors. All rights reserved.
"""Fake registered components for engine and tool tests.

Registered on import: tests import this module, configs of in-process and
subprocess tool runs name it (``custom_imports =
dict(imports=['mmppm.testing.fakes'])``). ``import mmppm`` does not.

* ``FakeRegressor`` / ``FakeRegressionDataset``: one ``nn.Parameter`` fitted to
  ``y = 3 x`` -- enough to train, save, load and resume through a Runner.
  These and the hooks live in mmengine's root registries, so training
  configs can use ``default_scope='mmengine'`` and skip importing
  ``mmpose.models`` (seconds per process in the distributed tests).
* ``FakeEpisodeModel`` / ``FakeEpisodeDataset`` / ``FakeEpisodeMetric``:
  episodic test data whose predictions are a known function of the episode,
  for the resumable test loop.
"""

import os.path as osp
from typing import List

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import DATASETS as ENGINE_DATASETS
from mmengine.registry import HOOKS as ENGINE_HOOKS
from mmengine.registry import METRICS as ENGINE_METRICS
from mmengine.registry import MODELS as ENGINE_MODELS
from mmengine.structures import InstanceData
from mmpose.registry import DATASETS, METRICS, MODELS
from mmpose.structures import PoseDataSample
from torch import nn
from torch.utils.data import Dataset

import mmppm  # noqa: F401  (mmcv ext stand-in before mmpose.models)
from mmppm.engine.runner import iter_data_elements
from mmppm.utils.errors import MissingFileError


@ENGINE_MODELS.register_module(force=True)
class FakeRegressor(BaseModel):
    """``y_hat = w * x`` with a single scalar parameter ``w``; with
    ``noise`` > 0, ``y_hat`` gets Gaussian noise from torch's global
    generator in training and in prediction (as the diffusion noise of PPM
    and CPT), so the parameters depend on every draw."""

    def __init__(self,
                 init_w: float = 0.0,
                 noise: float = 0.0,
                 data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.w = nn.Parameter(torch.tensor([init_w]))
        self.noise = noise

    def forward(self, inputs, targets=None, mode='tensor'):
        pred = self.w * inputs  # [B]
        if self.noise:
            pred = pred + self.noise * torch.randn(pred.shape)
        if mode == 'loss':
            return dict(loss=((pred - targets)**2).mean())
        if mode == 'predict':
            return [
                PoseDataSample(metainfo=dict(pred=float(p), target=float(t)))
                for p, t in zip(pred, targets)
            ]
        return pred


@ENGINE_METRICS.register_module(force=True)
class FakeRegressionMetric(BaseMetric):
    """Mean squared error of :class:`FakeRegressor`'s predictions."""

    def process(self, data_batch, data_samples):
        self.results.extend((s['pred'] - s['target'])**2 for s in data_samples)

    def compute_metrics(self, results):
        return dict(mse=float(np.mean(results)))


@ENGINE_DATASETS.register_module(force=True)
class FakeRegressionDataset(Dataset):
    """``n`` points on ``y = 3 x``."""

    metainfo = dict(dataset_name='toy', sigmas=np.ones(3, dtype=np.float32))

    def __init__(self, n: int = 8):
        self.xs = torch.linspace(-1, 1, n)

    def __len__(self):
        return len(self.xs)

    def __getitem__(self, idx):
        x = self.xs[idx]
        return dict(inputs=x, targets=3 * x)


@ENGINE_HOOKS.register_module(force=True)
class DumpParamsHook(Hook):
    """Saves every rank's parameters to ``{work_dir}/params_rank{r}.pt`` at
    the end of training (used to check DDP replicas stay identical)."""

    def after_train(self, runner):
        from mmengine.dist import get_rank
        from mmengine.model import is_model_wrapper
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        torch.save(
            dict(params=state, iter=runner.iter),
            osp.join(runner.work_dir, f'params_rank{get_rank()}.pt'))


@ENGINE_HOOKS.register_module(force=True)
class SnapshotHook(Hook):
    """Keeps the state training starts from (after ``load_from``/``resume``):
    ``self.snapshot = dict(iter, params, optimizer)``."""

    def before_train(self, runner):
        import copy

        from mmengine.model import is_model_wrapper
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self.snapshot = dict(
            iter=runner.iter,
            params={
                k: v.detach().clone()
                for k, v in model.state_dict().items()
            },
            optimizer=copy.deepcopy(
                runner.optim_wrapper.optimizer.state_dict()))


# ---------------------------------------------------------------------------
# Episodic fakes for the resumable test loop.


def episode_prediction(episode_index: int, query: int) -> np.ndarray:
    """The fake model's deterministic prediction for one query."""
    rng = np.random.default_rng(1000 * episode_index + query)
    return rng.random((5, 2)).astype(np.float32)  # [K, 2]


@DATASETS.register_module(force=True)
class FakeEpisodeDataset(Dataset):
    """``n`` episodes of one support and ``num_queries`` query samples.

    Each item is ``dict(inputs=..., data_samples=[PoseDataSample, ...])``
    where every data sample carries ``episode_id`` in its metainfo.
    """

    metainfo = dict(dataset_name='fake_episodes')

    def __init__(self,
                 n: int = 6,
                 num_queries: int = 2,
                 missing_image_at: int = -1):
        self.n = n
        self.num_queries = num_queries
        self.missing_image_at = missing_image_at  # a user's data error

    def __len__(self):
        return self.n

    def __getitem__(self, idx):
        if idx == self.missing_image_at:
            # as MP100Dataset._check_image: a missing file is the user's
            raise MissingFileError(f'Image file not found: ep{idx:03d}.jpg '
                                   f'(episode {idx})')
        samples = [
            PoseDataSample(
                metainfo=dict(
                    episode_id=f'ep{idx:03d}', role=role, episode_index=idx))
            for role in ['support'] + ['query'] * self.num_queries
        ]
        return dict(inputs=torch.tensor(float(idx)), data_samples=samples)


@MODELS.register_module(force=True)
class FakeEpisodeModel(BaseModel):
    """Predicts ``episode_prediction(index, q)`` for each query and counts
    calls. Set the class attribute ``fail_after`` to raise on the call after
    that many (simulating an interrupted run); it is deliberately not a
    config value, so that the config (and the cache name) stay the same."""

    fail_after = None

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.calls = 0
        self.episodes_seen: List[str] = []

    def forward(self, *args, **kwargs):
        raise NotImplementedError

    def test_step(self, data):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError('simulated interruption')
        self.calls += 1
        outputs = []
        seen = []
        for ds in iter_data_elements(data['data_samples']):
            if ds.episode_id not in seen:
                seen.append(ds.episode_id)
            if ds.role != 'query':
                continue
            q = sum(o.episode_id == ds.episode_id for o in outputs)
            out = PoseDataSample(metainfo=dict(ds.metainfo))
            out.pred_instances = InstanceData(
                keypoints=episode_prediction(ds.episode_index, q)[None])
            outputs.append(out)
        self.episodes_seen.extend(seen)
        return outputs


@METRICS.register_module(force=True)
class FakeEpisodeMetric(BaseMetric):
    """Mean keypoint value plus an order-independent digest of all
    predictions, so that any lost, doubled or altered prediction shows.

    Appends ONE result per episode: mmengine's ``collect_results`` truncates
    the results to ``len(dataset)`` (= number of episodes).
    """

    def process(self, data_batch, data_samples):
        per_episode = {}
        for ds in data_samples:
            per_episode.setdefault(ds['episode_id'], []).append(
                np.asarray(ds['pred_instances']['keypoints']))
        self.results.extend(
            (eid, np.stack(k)) for eid, k in per_episode.items())

    def compute_metrics(self, results):
        results = sorted(results, key=lambda r: r[0])
        flat = np.concatenate([k.reshape(-1) for _, k in results])
        return dict(
            mean=float(flat.mean()),
            num_episodes=len(results),
            num_queries=sum(len(k) for _, k in results),
            digest=float(np.sum(flat * np.arange(1, flat.size + 1))))
