# Copyright (c) mmppm contributors. All rights reserved.
"""Save, ``load_from`` and ``resume`` through a real Runner under torch's
``weights_only=True`` default (INSTALL-NOTES trap 8)."""
import io
import os.path as osp
import pickle
import pickletools
import uuid
import zipfile

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner

import mmppm.testing.fakes  # noqa: F401  (registers the fake model/dataset)
from mmppm.compat.checkpoint_compat import (history_buffer_getattr,
                                            register_checkpoint_safe_globals)


@pytest.fixture(autouse=True)
def _weights_only_default(monkeypatch):
    monkeypatch.delenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', raising=False)
    monkeypatch.delenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', raising=False)
    register_checkpoint_safe_globals()


def make_runner(work_dir, max_iters, load_from=None, resume=False):
    return Runner.from_cfg(
        Config(
            dict(
                model=dict(type='FakeRegressor', init_w=0.5),
                work_dir=str(work_dir),
                experiment_name=f'ckpt_{uuid.uuid4().hex}',
                default_scope='mmengine',
                log_level='WARNING',
                train_dataloader=dict(
                    dataset=dict(type='FakeRegressionDataset', n=8),
                    sampler=dict(type='DefaultSampler', shuffle=False),
                    batch_size=4,
                    num_workers=0,
                    collate_fn=dict(type='default_collate')),
                optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.1)),
                train_cfg=dict(by_epoch=False, max_iters=max_iters),
                default_hooks=dict(
                    checkpoint=dict(
                        type='CheckpointHook', interval=2, by_epoch=False)),
                custom_hooks=[dict(type='SnapshotHook')],
                load_from=load_from,
                resume=resume)))


def snapshot(runner):
    (hook, ) = [h for h in runner.hooks if type(h).__name__ == 'SnapshotHook']
    return hook.snapshot


def pickled_globals(path):
    """``module.name`` of every GLOBAL in a torch zip checkpoint."""
    with zipfile.ZipFile(path) as zf:
        (name, ) = [n for n in zf.namelist() if n.endswith('data.pkl')]
        data = zf.read(name)
    return {
        arg.replace(' ', '.')
        for op, arg, _ in pickletools.genops(data) if op.name == 'GLOBAL'
    }


def trusted_load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def test_checkpoint_needs_and_gets_the_allow_list(tmp_path):
    runner = make_runner(tmp_path / 'a', max_iters=2)
    runner.train()
    ckpt = osp.join(runner.work_dir, 'iter_2.pth')
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in pickled_globals(
        ckpt)
    loaded = torch.load(ckpt, weights_only=True)
    ref = trusted_load(ckpt)
    assert loaded['meta']['iter'] == 2
    buf = loaded['message_hub']['log_scalars']['train/loss']
    ref_buf = ref['message_hub']['log_scalars']['train/loss']
    np.testing.assert_array_equal(buf.data[0], ref_buf.data[0])
    assert buf.mean() == ref_buf.mean()


def test_load_from_and_resume_restore_exactly(tmp_path):
    # Uninterrupted run: 4 iterations, checkpoints at 2 and 4.
    first = make_runner(tmp_path / 'a', max_iters=4)
    first.train()
    ckpt2 = osp.join(first.work_dir, 'iter_2.pth')
    ckpt4 = trusted_load(osp.join(first.work_dir, 'iter_4.pth'))

    # load_from: weights only, iteration count and optimizer not restored.
    loaded = make_runner(tmp_path / 'b', max_iters=1, load_from=ckpt2)
    loaded.train()
    start = snapshot(loaded)
    ref2 = trusted_load(ckpt2)
    assert start['iter'] == 0 and start['optimizer']['state'] == {}
    assert torch.equal(start['params']['w'], ref2['state_dict']['w'])
    assert loaded.iter == 1

    # resume from iter 2: parameters, optimizer state, iteration restored ...
    resumed = make_runner(
        tmp_path / 'c', max_iters=4, load_from=ckpt2, resume=True)
    resumed.train()
    start = snapshot(resumed)
    assert start['iter'] == 2
    assert torch.equal(start['params']['w'], ref2['state_dict']['w'])
    ref_opt = ref2['optimizer']
    assert start['optimizer']['param_groups'] == ref_opt['param_groups']
    assert start['optimizer']['state'].keys() == ref_opt['state'].keys()
    for k, v in ref_opt['state'][0].items():
        assert torch.equal(
            torch.as_tensor(start['optimizer']['state'][0][k]),
            torch.as_tensor(v)), k
    # ... and training continues to where the uninterrupted run got.
    assert resumed.iter == 4
    assert torch.equal(resumed.model.w.detach(), ckpt4['state_dict']['w'])


def test_getattr_is_restricted():
    assert history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(HistoryBuffer, '__init__')
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(np.ndarray, 'tofile')
    buf = io.BytesIO()
    torch.save(dict(f=np.ndarray.tofile), buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buf, weights_only=True)


def test_numpy_values_roundtrip():
    value = dict(
        s=np.float64(1.5),
        i=np.int32(3),
        a=np.arange(4, dtype=np.float32),
        b=np.array([True, False]))
    buf = io.BytesIO()
    torch.save(value, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=True)
    assert loaded['s'] == 1.5 and loaded['i'] == 3
    np.testing.assert_array_equal(loaded['a'], value['a'])
    np.testing.assert_array_equal(loaded['b'], value['b'])
