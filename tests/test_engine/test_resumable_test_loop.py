# Copyright (c) mmppm contributors. All rights reserved.
import glob
import json
import os
import os.path as osp
import pickle
import uuid

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.structures import InstanceData
from mmpose.structures import PoseDataSample

from mmppm.engine.runner import (PredictionWriter, batch_episode_ids,
                                 group_outputs_by_episode,
                                 read_prediction_records)
from mmppm.testing.fakes import FakeEpisodeModel  # registers the fakes


def make_runner(work_dir, n=6, batch_size=1, num_queries=2, **loop_kwargs):
    return Runner.from_cfg(
        Config(
            dict(
                model=dict(type='FakeEpisodeModel'),
                work_dir=str(work_dir),
                experiment_name=f'resumable_{uuid.uuid4().hex}',
                default_scope='mmpose',
                log_level='WARNING',
                test_dataloader=dict(
                    dataset=dict(
                        type='FakeEpisodeDataset',
                        n=n,
                        num_queries=num_queries),
                    sampler=dict(type='DefaultSampler', shuffle=False),
                    batch_size=batch_size,
                    num_workers=0,
                    collate_fn=dict(type='pseudo_collate')),
                test_cfg=dict(type='ResumableTestLoop', **loop_kwargs),
                test_evaluator=dict(type='FakeEpisodeMetric'))))


def run_test(runner):
    metrics = runner.test()
    return metrics, runner.model.calls, runner.model.episodes_seen


def cache_files(work_dir):
    return sorted(glob.glob(osp.join(work_dir, 'predictions', '*', '*.jsonl')))


@pytest.fixture
def reference(tmp_path):
    """Metrics of an uninterrupted run."""
    metrics, calls, _ = run_test(make_runner(tmp_path / 'ref'))
    assert calls == 6
    assert metrics['num_episodes'] == 6 and metrics['num_queries'] == 12
    return metrics


@pytest.fixture
def interrupt_after(monkeypatch):

    def _set(n):
        monkeypatch.setattr(FakeEpisodeModel, 'fail_after', n)

    return _set


def test_interrupted_run_resumes_with_identical_metric(tmp_path, reference,
                                                       interrupt_after):
    work_dir = tmp_path / 'run'
    interrupt_after(4)
    runner = make_runner(work_dir)
    with pytest.raises(RuntimeError, match='simulated interruption'):
        runner.test()
    assert runner.model.calls == 4  # interrupted inside the 5th episode

    interrupt_after(None)
    metrics, calls, seen = run_test(make_runner(work_dir))
    assert metrics == reference
    assert calls == 2
    assert seen == ['ep004', 'ep005']

    # A third run computes nothing.
    metrics, calls, _ = run_test(make_runner(work_dir))
    assert metrics == reference and calls == 0


def test_resume_false_recomputes(tmp_path, reference):
    work_dir = tmp_path / 'run'
    run_test(make_runner(work_dir))
    metrics, calls, _ = run_test(make_runner(work_dir, resume=False))
    assert metrics == reference and calls == 6


def test_changed_config_does_not_reuse_cache(tmp_path):
    work_dir = tmp_path / 'run'
    run_test(make_runner(work_dir))
    # Another test set -> another cache name -> nothing reused.
    _, calls, _ = run_test(make_runner(work_dir, num_queries=3))
    assert calls == 6
    assert len({osp.dirname(f) for f in cache_files(work_dir)}) == 2


@pytest.mark.parametrize('damage', ['truncate', 'garbage'])
def test_damaged_last_record_is_tolerated(tmp_path, reference, damage):
    work_dir = tmp_path / 'run'
    run_test(make_runner(work_dir))
    (path, ) = cache_files(work_dir)
    size = osp.getsize(path)
    if damage == 'truncate':  # killed while writing the last record
        with open(path, 'r+b') as f:
            f.truncate(size - 7)
    else:
        with open(path, 'ab') as f:
            f.write(b'\x80\x05garbage')
    metrics, calls, seen = run_test(make_runner(work_dir))
    assert metrics == reference
    assert calls == (1 if damage == 'truncate' else 0)
    if damage == 'truncate':
        assert seen == ['ep005']


def test_merges_rank_files_of_a_sharded_run(tmp_path, reference):
    """Two rank files as a 2-process run (DefaultSampler: rank r gets
    episodes r, r+2, ...) leaves them when rank 1 dies in ep005."""
    work_dir = tmp_path / 'run'
    run_test(make_runner(work_dir))
    (path, ) = cache_files(work_dir)
    episodes = read_prediction_records(osp.dirname(path))
    assert sorted(episodes) == [f'ep{i:03d}' for i in range(6)]
    os.remove(path)
    for rank in (0, 1):
        writer = PredictionWriter(
            osp.join(osp.dirname(path), f'earlier_rank{rank}.jsonl'))
        for i in range(rank, 5, 2):
            writer.write({f'ep{i:03d}': episodes[f'ep{i:03d}']})
        writer.close()

    metrics, calls, seen = run_test(make_runner(work_dir))
    assert metrics == reference
    assert calls == 1 and seen == ['ep005']


def test_batches_of_several_episodes(tmp_path, reference, interrupt_after):
    work_dir = tmp_path / 'run'
    # batch of 2 episodes: the 2nd batch (ep002, ep003) is interrupted.
    interrupt_after(1)
    with pytest.raises(RuntimeError):
        make_runner(work_dir, batch_size=2).test()
    interrupt_after(None)
    metrics, calls, seen = run_test(make_runner(work_dir, batch_size=2))
    assert metrics == reference
    assert calls == 2 and seen == ['ep002', 'ep003', 'ep004', 'ep005']
    # Reuse with another batch size (batch composition differs).
    metrics, calls, _ = run_test(make_runner(work_dir, batch_size=4))
    assert metrics == reference and calls == 0


def _sample(episode_id, role='query'):
    return PoseDataSample(metainfo=dict(episode_id=episode_id, role=role))


def test_batch_episode_ids():
    # pseudo_collate transposes per-episode lists: samples grouped by slot.
    batch = dict(data_samples=[[_sample('b'), _sample('a')],
                               [_sample('b'), _sample('a')]])
    assert batch_episode_ids(batch) == ['b', 'a']
    with pytest.raises(KeyError, match='episode_id'):
        batch_episode_ids(dict(data_samples=[PoseDataSample()]))


def test_group_outputs_by_episode():
    out = [_sample('a'), _sample('b'), _sample('a')]
    out[0].pred_instances = InstanceData()
    grouped = group_outputs_by_episode(out, ['a', 'b'])
    assert [len(grouped['a']), len(grouped['b'])] == [2, 1]
    # one episode: everything is its own, ids or not
    assert len(group_outputs_by_episode([PoseDataSample()] * 3,
                                        ['a'])['a']) == 3
    # several episodes, unattributable output -> not cacheable
    assert group_outputs_by_episode([PoseDataSample()], ['a', 'b']) is None


def test_records_roundtrip_as_plain_json(tmp_path):
    writer = PredictionWriter(str(tmp_path / 'c' / 'x_rank0.jsonl'))
    sample = PoseDataSample(
        metainfo=dict(
            episode_id=3,
            support_keypoints_visible=np.ones((2, 3), np.float32),
            fit_pck=np.array([0.5, 1.0]),
            name='cat',
            pair=(1, 2)))
    sample.pred_instances = InstanceData(
        keypoints=np.array([[[1.25, 2.5]]], np.float32),
        keypoint_scores=torch.tensor([[0.75]]))
    writer.write({'a': [sample]})
    writer.write({7: [1, 'x']})
    writer.close()
    first = json.loads(
        (tmp_path / 'c' / 'x_rank0.jsonl').read_text().splitlines()[0])
    assert first['version'] == 2
    records = read_prediction_records(str(tmp_path / 'c'))
    assert records[7] == [1, 'x']
    (back, ) = records['a']
    assert isinstance(back, PoseDataSample)
    assert back.episode_id == 3 and back.name == 'cat' and back.pair == (1, 2)
    np.testing.assert_array_equal(back.support_keypoints_visible,
                                  np.ones((2, 3), np.float32))
    assert back.pred_instances.keypoints.dtype == np.float32
    np.testing.assert_array_equal(back.pred_instances.keypoints,
                                  [[[1.25, 2.5]]])
    assert torch.equal(back.pred_instances.keypoint_scores,
                       torch.tensor([[0.75]]))
    assert read_prediction_records(str(tmp_path / 'missing')) == {}


class _Payload:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def test_a_planted_pickle_is_never_loaded(tmp_path, reference):
    work_dir = tmp_path / 'run'
    run_test(make_runner(work_dir))
    (path, ) = cache_files(work_dir)
    marker = tmp_path / 'payload_ran'
    with open(osp.join(osp.dirname(path), 'planted_rank0.pkl'), 'wb') as f:
        pickle.dump(_Payload(str(marker)), f)
    metrics, calls, _ = run_test(make_runner(work_dir))
    assert not marker.exists()
    assert metrics == reference and calls == 0


def test_unknown_element_type_in_a_cache_is_rejected(tmp_path):
    line = json.dumps(
        dict(
            version=2,
            episodes=[[
                'e',
                [{
                    '__element__': 'os.system',
                    'metainfo': {},
                    'fields': {}
                }]
            ]]))
    (tmp_path / 'x_rank0.jsonl').write_text(line + '\n')
    assert read_prediction_records(str(tmp_path)) == {}
