# Copyright (c) mmppm contributors. All rights reserved.
import json
import logging

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmengine.structures import InstanceData
from mmpose.structures import PoseDataSample

import mmppm.evaluation  # noqa: F401
from mmppm.evaluation import EpisodicPCK


def _sample(cat_id, name, pred, gt, q_vis, s_vis, bbox, role='query'):
    s = PoseDataSample(
        metainfo=dict(
            category_id=cat_id,
            category_name=name,
            episode_id=0,
            episode_role=role,
            support_keypoints_visible=np.asarray(s_vis, dtype=np.float32)))
    s.gt_instances = InstanceData(
        keypoints=np.asarray(gt, dtype=np.float32)[None],
        keypoints_visible=np.asarray(q_vis, dtype=np.float32)[None],
        bboxes=np.asarray(bbox, dtype=np.float32)[None])
    s.pred_instances = InstanceData(
        keypoints=torch.as_tensor(pred, dtype=torch.float32)[None])
    return s


def test_metric_end_to_end():
    gt = np.array([[10., 10.], [50., 50.], [90., 20.]])
    bbox = [0, 0, 100, 100]
    samples = [
        # perfect
        _sample(1, 'a', gt, gt, [1, 1, 1], [[1, 1, 1]], bbox),
        # one of three off by 12 px: correct from thr 0.15 on
        _sample(1, 'a', gt + [[12, 0], [0, 0], [0, 0]], gt, [1, 1, 1],
                [[1, 1, 1]], bbox),
        # nothing counted -> 0
        _sample(2, 'b', gt, gt, [1, 1, 1], [[0, 0, 0]], bbox),
        # a support sample is ignored
        _sample(2, 'b', gt * 0, gt, [1, 1, 1], [[1, 1, 1]], bbox, 'support'),
    ]
    evaluator = Evaluator(EpisodicPCK(prefix='mp100'))
    evaluator.process(samples)
    m = evaluator.evaluate(3)
    a_low, a_high = (1 + 2 / 3) / 2, 1.
    assert m['mp100/PCK@0.05'] == pytest.approx((a_low * 2) / 3)
    assert m['mp100/PCK@0.10'] == pytest.approx((a_low * 2) / 3)
    assert m['mp100/PCK@0.20'] == pytest.approx(a_high * 2 / 3)
    assert m['mp100/PCK'] == m['mp100/PCK@0.20']
    assert m['mp100/mPCK'] == pytest.approx(
        np.mean(
            [m[f'mp100/PCK@{t:.2f}'] for t in (0.05, 0.1, 0.15, 0.2, 0.25)]))
    assert m['mp100/PCK@0.20/a'] == 1.0 and m['mp100/PCK@0.20/b'] == 0.0


def test_metric_oracle_and_duplicate_names():
    rng = np.random.RandomState(0)
    metric = EpisodicPCK(thrs=(0.1, 0.2), per_category=True)
    samples = []
    for cat_id in (18, 40):  # MP-100 has two categories named 'face'
        gt = rng.rand(5, 2) * 100
        samples.append(
            _sample(cat_id, 'face', gt, gt, np.ones(5), np.ones((1, 5)),
                    [0, 0, 100, 80]).to_dict())
    metric.process({}, samples)
    m = metric.compute_metrics(metric.results)
    assert m['PCK'] == m['mPCK'] == 1.0
    assert m['PCK@0.20/face#18'] == m['PCK@0.20/face#40'] == 1.0
    with pytest.raises(ValueError, match='headline_thr'):
        EpisodicPCK(thrs=(0.1, ), headline_thr=0.2)


def test_metric_keeps_every_query_when_sized_by_episodes():
    """mmengine truncates collected results to the dataset length (episodes):
    with 2 episodes x 3 queries all 6 queries must still be scored."""
    gt = np.array([[10., 10.], [50., 50.]])
    bbox = [0, 0, 100, 100]
    samples = []
    for episode_id in (0, 1):
        for q in range(3):
            # only the last query of episode 1 is wrong
            wrong = episode_id == 1 and q == 2
            s = _sample(1, 'a', gt + 40 * wrong, gt, [1, 1], [[1, 1]], bbox)
            s.set_metainfo(dict(episode_id=episode_id))
            samples.append(s)
    evaluator = Evaluator(EpisodicPCK())
    evaluator.process(samples)
    m = evaluator.evaluate(2)  # dataset length = number of episodes
    assert m['PCK'] == pytest.approx(5 / 6)


class _Records(logging.Handler):

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _evaluate_logged(evaluator, size):
    handler = _Records()
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        return evaluator.evaluate(size), ' '.join(handler.messages)
    finally:
        logger.removeHandler(handler)


def test_fit_diagnostics_reported_and_poor_fit_warned():
    gt = np.array([[10., 10.], [50., 50.]])
    samples = []
    for episode_id, fit in ((0, 0.5), (1, 0.9)):
        s = _sample(1, 'a', gt, gt, [1, 1], [[1, 1]], [0, 0, 100, 100])
        s.set_metainfo(
            dict(
                episode_id=episode_id,
                fit_pck=np.full(5, fit),
                fit_map_loss_vs_zero=fit))
        samples.append(s)
    evaluator = Evaluator(EpisodicPCK())
    evaluator.process(samples)
    m, log = _evaluate_logged(evaluator, 2)
    assert 'did not fit their own supports' in log
    assert 'model.fitter.steps' in log
    assert m['fit_PCK@0.20'] == pytest.approx(0.7)
    assert m['fit_map_loss_vs_zero'] == pytest.approx(0.7)
    assert m['PCK'] == 1.0


def test_good_fit_no_warning():
    gt = np.array([[10., 10.]])
    s = _sample(1, 'a', gt, gt, [1], [[1]], [0, 0, 10, 10])
    s.set_metainfo(dict(fit_pck=np.full(5, 0.95), fit_map_loss_vs_zero=0.5))
    evaluator = Evaluator(EpisodicPCK())
    evaluator.process([s])
    m, log = _evaluate_logged(evaluator, 1)
    assert m['fit_PCK@0.20'] == pytest.approx(0.95)
    assert 'did not fit' not in log


def test_no_fit_keys_without_diagnostics():
    gt = np.array([[10., 10.]])
    metric = EpisodicPCK()
    metric.process(
        {}, [_sample(1, 'a', gt, gt, [1], [[1]], [0, 0, 10, 10]).to_dict()])
    assert not any(
        k.startswith('fit_') for k in metric.compute_metrics(metric.results))


@pytest.mark.parametrize(
    'thrs, headline, expected',
    [
        ((0.05, 0.10, 0.15, 0.20, 0.25), 0.2, 0.5),
        ((0.3, ), 0.3, 1.0),  # not a default threshold: from the errors
        ((0.1, 0.2), 0.1, 0.0),
    ])
def test_fit_pck_at_the_metric_own_thresholds(thrs, headline, expected):
    """The supports' normalised errors travel with the predictions, so the
    fit PCK follows the metric's thresholds (was dropped silently)."""
    gt = np.array([[10., 10.]])
    s = _sample(1, 'a', gt, gt, [1], [[1]], [0, 0, 10, 10])
    # two supports (boxes 100 px): keypoint 0 off by 15 and 25 px (errors
    # 0.15 and 0.25), keypoint 1 not visible on support 1: not counted
    sup = np.array([[[20., 20.], [60., 60.]], [[30., 30.], [70., 70.]]])
    s.set_metainfo(
        dict(
            fit_map_loss_vs_zero=0.5,
            fit_keypoints=sup +
            np.array([[[15., 0.], [0., 0.]], [[0., 25.], [0., 0.]]]),
            support_keypoints=sup,
            support_bboxes=np.array([[0., 0., 100., 100.]] * 2),
            support_keypoints_visible=np.array([[1, 1], [1, 0]])))
    evaluator = Evaluator(EpisodicPCK(thrs=thrs, headline_thr=headline))
    evaluator.process([s])
    m, log = _evaluate_logged(evaluator, 1)
    assert m[f'fit_PCK@{headline:.2f}'] == pytest.approx(expected)
    # and the poor-fit warning follows it (fit PCK < 80 %)
    assert ('did not fit their own supports' in log) == (expected < 0.8)


def test_old_predictions_without_errors_say_why_no_fit_metric():
    gt = np.array([[10., 10.]])
    s = _sample(1, 'a', gt, gt, [1], [[1]], [0, 0, 10, 10])
    s.set_metainfo(dict(fit_pck=np.full(5, 0.95), fit_map_loss_vs_zero=0.5))
    evaluator = Evaluator(EpisodicPCK(thrs=(0.3, ), headline_thr=0.3))
    evaluator.process([s])
    m, log = _evaluate_logged(evaluator, 1)
    assert not any(k.startswith('fit_') for k in m)
    assert 'fit PCK is not reported' in log


def test_outfile_prefix_writes_each_querys_scores(tmp_path):
    gt = np.array([[10., 10.], [50., 50.]])
    bbox = [0, 0, 100, 100]
    samples = [
        _sample(1, 'a', gt, gt, [1, 1], [[1, 1]], bbox),
        # one of two off by 12 px: correct from thr 0.15 on
        _sample(1, 'a', gt + [[12, 0], [0, 0]], gt, [1, 1], [[1, 1]], bbox),
        _sample(1, 'a', gt, gt, [1, 1], [[1, 1]], bbox, 'support'),
    ]
    prefix = str(tmp_path / 'out' / 'run')
    evaluator = Evaluator(EpisodicPCK(thrs=(0.1, 0.2), outfile_prefix=prefix))
    evaluator.process(samples)
    evaluator.evaluate(1)
    with open(prefix + '.queries.json', encoding='utf-8') as f:
        data = json.load(f)
    assert data['thrs'] == [0.1, 0.2]
    assert [q['pck'] for q in data['queries']] == [[1.0, 1.0], [0.5, 1.0]]
    assert data['queries'][0]['category_name'] == 'a'
    assert data['queries'][0]['episode_id'] == 0
    assert 'fit_pck' not in data['queries'][0]
    assert [p.name for p in (tmp_path / 'out').iterdir()
            ] == ['run.queries.json']  # no temporary file left beside it


def _twin_sample(pred, kinds=True):
    gt = np.array([[20., 50.], [80., 50.], [50., 10.]])
    s = _sample(1, 'a', pred, gt, [1, 1, 1], [[1, 1, 1]], [0, 0, 100, 100])
    s.set_metainfo(dict(keypoint_names=['left eye', 'right eye', 'nose']))
    if kinds:
        s.set_metainfo(dict(keypoint_kinds=['twin', 'twin', 'other']))
    return s, gt


def test_swap_rate_and_pck_per_kind(tmp_path):
    """Every pair swapped: 100 % swaps and twin PCK 0; the ground truth:
    0 % swaps, every kind 100 %; both written per query."""
    swapped, gt = _twin_sample(np.array([[80., 50.], [20., 50.], [50., 10.]]))
    truth, _ = _twin_sample(gt)
    for samples, swaps, twin_pck in (([swapped], 1.0, 0.0), ([truth], 0.0,
                                                             1.0)):
        prefix = str(tmp_path / f'r{swaps}')
        evaluator = Evaluator(EpisodicPCK(outfile_prefix=prefix))
        evaluator.process(samples)
        m = evaluator.evaluate(1)
        assert m['swap_rate@0.20'] == swaps
        assert m['PCK@0.20/kind/twin'] == twin_pck
        assert m['PCK@0.20/kind/other'] == 1.0
        with open(prefix + '.queries.json') as f:
            query = json.load(f)['queries'][0]
        assert query['swaps'] == [int(2 * swaps), 2, int(2 * twin_pck)]
        assert query['kinds'] == {
            'twin': [int(2 * twin_pck), 2],
            'other': [1, 1]
        }
    # off: neither key
    evaluator = Evaluator(EpisodicPCK(swap_rate=False, per_kind=False))
    evaluator.process([swapped])
    assert not any('swap' in k or 'kind' in k for k in evaluator.evaluate(1))
    # no kinds in the metainfo and no twins by name: no key
    plain = _sample(1, 'a', gt, gt, [1, 1, 1], [[1, 1, 1]], [0, 0, 100, 100])
    evaluator = Evaluator(EpisodicPCK())
    evaluator.process([plain])
    assert not any('swap' in k or 'kind' in k for k in evaluator.evaluate(1))
