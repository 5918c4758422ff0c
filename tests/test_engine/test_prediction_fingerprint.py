"""The prediction cache key follows content, not paths."""
import json
import os
import time
from types import SimpleNamespace

import pytest
from mmengine.config import Config

from mmppm.engine.runner import fingerprint as fp
from mmppm.engine.runner.fingerprint import (REMEMBER_MIN_BYTES, HashMemo,
                                             cache_key, file_fingerprint)
from mmppm.engine.runner.resumable_test_loop import prediction_fingerprint


@pytest.fixture(autouse=True)
def memo_in_tmp(tmp_path, monkeypatch):
    """Remembered hashes go to the test's folder, not ~/.cache."""
    path = tmp_path / 'memo' / 'file_hashes.json'
    monkeypatch.setenv('MMPPM_HASH_MEMO', str(path))
    return path


def _setup(tmp_path):
    ckpt = tmp_path / 'ckpt.pth'
    ckpt.write_bytes(b'weights v1')
    sd = tmp_path / 'sd'
    (sd / 'unet').mkdir(parents=True)
    (sd / 'unet' / 'config.json').write_text('{"a": 1}')
    (sd / 'unet' / 'model.safetensors').write_bytes(b'unet v1')
    ann = tmp_path / 'ann.json'
    ann.write_text('{"images": []}')
    img = tmp_path / 'img.jpg'
    img.write_bytes(b'jpeg v1')
    cfg = Config(
        dict(
            model=dict(backbone=dict(pretrained=str(sd))),
            test_dataloader=dict(dataset=dict(type='X')),
            load_from=str(ckpt)))
    dataset = SimpleNamespace(
        ann_file=str(ann), instances=[dict(img_path=str(img))])
    return cfg, dataset, dict(ckpt=ckpt, sd=sd, ann=ann, img=img)


def key(cfg, dataset):
    return cache_key(prediction_fingerprint(cfg, dataset))


def test_same_inputs_same_key(tmp_path):
    cfg, dataset, _ = _setup(tmp_path)
    assert key(cfg, dataset) == key(cfg, dataset)
    parts = prediction_fingerprint(cfg, dataset)
    assert set(parts) == {
        'config', 'checkpoint', 'sd_weights', 'annotations', 'images', 'code'
    }


def test_replacing_any_input_under_the_same_path_changes_the_key(tmp_path):
    cfg, dataset, files = _setup(tmp_path)
    before = key(cfg, dataset)
    seen = {before}
    for path, content in ((files['ckpt'], b'weights nan'),
                          (files['sd'] / 'unet' / 'model.safetensors',
                           b'unet v2'), (files['ann'], b'{"images": [1]}'),
                          (files['img'], b'jpeg v2 longer')):
        path.write_bytes(content)
        now = key(cfg, dataset)
        assert now not in seen, path
        seen.add(now)
    cfg.model.backbone.pretrained = 'runwayml/stable-diffusion-v1-5'
    assert key(cfg, dataset) not in seen


def test_a_picture_replaced_with_its_size_and_time_kept_changes_the_key(
        tmp_path):
    """cp -p, rsync -t and tar keep size and modification time: a
    different picture under the same name must not replay (it did: toy_cat10
    PCK@0.2 0.72 replayed vs 0.54 fresh)."""
    cfg, dataset, files = _setup(tmp_path)
    img = files['img']
    before = key(cfg, dataset)
    stat = os.stat(img)
    old = img.read_bytes()
    img.write_bytes(bytes(reversed(old)))  # same size, other content
    os.utime(img, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(img).st_size == stat.st_size
    assert os.stat(img).st_mtime_ns == stat.st_mtime_ns
    assert key(cfg, dataset) != before
    img.write_bytes(old)  # the same bytes again: the same key
    assert key(cfg, dataset) == before


def test_a_tilde_sd_folder_is_hashed(tmp_path, monkeypatch):
    """Case 1: ``model.backbone.pretrained=~/sd`` was keyed as the hub id
    ``hub:~/sd@main`` (the loader expands ``~``, the key did not): a new
    UNet replayed the old predictions."""
    cfg, dataset, files = _setup(tmp_path)
    monkeypatch.setenv('HOME', str(tmp_path))
    cfg.model.backbone.pretrained = '~/sd'
    parts = prediction_fingerprint(cfg, dataset)
    assert not parts['sd_weights'].startswith('hub:')
    before = key(cfg, dataset)
    (files['sd'] / 'unet' / 'model.safetensors').write_bytes(b'unet v2')
    assert key(cfg, dataset) != before


def test_a_linked_component_folder_is_hashed_where_it_lives(tmp_path):
    """Case 2: ``unet -> ../other/unet`` was not walked into: replacing or
    re-pointing it replayed the old predictions."""
    cfg, dataset, files = _setup(tmp_path)
    for name in ('other', 'other2'):
        (tmp_path / name / 'unet').mkdir(parents=True)
        (tmp_path / name / 'unet' / 'model.safetensors').write_bytes(
            name.encode())
    unet = files['sd'] / 'unet'
    for f in unet.iterdir():
        f.unlink()
    unet.rmdir()
    unet.symlink_to(tmp_path / 'other' / 'unet')
    seen = {key(cfg, dataset)}
    (tmp_path / 'other' / 'unet' / 'model.safetensors').write_bytes(b'new')
    seen.add(key(cfg, dataset))
    unet.unlink()  # re-pointed
    unet.symlink_to(tmp_path / 'other2' / 'unet')
    last = key(cfg, dataset)
    seen.add(last)
    assert len(seen) == 3
    # a loop of links is walked once, not forever (it adds no file)
    (tmp_path / 'other2' / 'unet' / 'loop').symlink_to(tmp_path / 'sd')
    assert key(cfg, dataset) == last


def _rewrite_middle_keep_time(path, offset):
    """Change one byte in the middle, then restore size and modification
    time as ``cp -p`` / ``rsync -t`` do."""
    stat = os.stat(path)
    with open(path, 'r+b') as f:
        f.seek(offset)
        old = f.read(1)
        f.seek(offset)
        f.write(bytes([old[0] ^ 0xFF]))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (stat.st_size,
                                                  stat.st_mtime_ns)


def test_a_large_weight_file_changed_in_the_middle_changes_its_key(
        tmp_path, monkeypatch, memo_in_tmp):
    """Case 3: files over 64 MiB were keyed on size, mtime and the first
    and last MiB: tensors changed in the middle with the mtime kept
    replayed. Now all bytes are hashed once; the hash is remembered
    against (device, inode, size, mtime, ctime) in a JSON file."""
    monkeypatch.setattr(fp, 'RACY_SECONDS', 0.0)  # remember at once
    path = tmp_path / 'big.safetensors'
    with open(path, 'wb') as f:
        f.truncate(REMEMBER_MIN_BYTES + 10)
    memo = HashMemo()
    first = file_fingerprint(str(path), memo)
    memo.save()
    stored = json.loads(memo_in_tmp.read_text())  # JSON, not pickle
    assert stored['files'][str(path)]['sha256'] == first
    calls = []
    real = fp.sha256_file
    monkeypatch.setattr(fp, 'sha256_file',
                        lambda p: calls.append(p) or real(p))
    assert file_fingerprint(str(path), HashMemo()) == first
    assert calls == []  # remembered: not read again
    time.sleep(0.02)  # a later clock tick: ctime moves
    _rewrite_middle_keep_time(path, REMEMBER_MIN_BYTES // 2)
    assert file_fingerprint(str(path), HashMemo()) != first
    assert calls == [str(path)]


def test_a_hash_is_not_remembered_while_the_file_is_fresh(tmp_path):
    """A write in the same clock tick as the hash could keep ctime: such a
    file is hashed every time until it settles."""
    stat = os.stat(tmp_path)
    assert not fp.is_settled(stat, stat.st_ctime_ns + 10**9)
    assert fp.is_settled(stat,
                         max(stat.st_ctime_ns, stat.st_mtime_ns) + 3 * 10**9)


def test_test_cfg_is_in_the_key(tmp_path):
    """Case 4: ``--cfg-options test_cfg.fp16=True`` replayed the fp32
    predictions (only model and test dataset were keyed)."""
    cfg, dataset, _ = _setup(tmp_path)
    cfg.test_cfg = dict(type='ResumableTestLoop')
    before = key(cfg, dataset)
    cfg.test_cfg.fp16 = True
    assert key(cfg, dataset) != before


@pytest.mark.parametrize('change', [
    'model.backbone.input_size', 'model.fitter.steps',
    'test_dataloader.dataset.shots', 'test_dataloader.collate_fn.type',
    'test_dataloader.sampler.shuffle', 'test_cfg.fp16', 'test_evaluator.thr',
    'randomness.seed', 'env_cfg.cudnn_benchmark', 'custom_hooks',
    'data_preprocessor.mean', 'new_top_level_key'
])
def test_every_config_value_the_run_reads_changes_the_key(tmp_path, change):
    """Property: the key covers the whole resolved config that reaches the
    model, the loop and the metric (not a chosen subset)."""
    cfg, dataset, _ = _setup(tmp_path)
    cfg.merge_from_dict(
        dict(
            test_dataloader=dict(
                batch_size=1,
                num_workers=0,
                sampler=dict(type='DefaultSampler')),
            test_cfg=dict(type='ResumableTestLoop'),
            test_evaluator=dict(type='EpisodicPCK'),
            randomness=dict(seed=0),
            env_cfg=dict(cudnn_benchmark=False),
            custom_hooks=[]))
    before = key(cfg, dataset)
    if change == 'custom_hooks':
        cfg.custom_hooks = [dict(type='SomeHook')]
    else:
        cfg.merge_from_dict({change: 12345})
    assert key(cfg, dataset) != before


@pytest.mark.parametrize('change', [
    'work_dir', 'test_cfg.cache_dir', 'test_cfg.log_interval',
    'test_dataloader.num_workers', 'test_dataloader.batch_size',
    'default_hooks.logger.interval', 'model_wrapper_cfg.type', 'show_hook'
])
def test_bookkeeping_does_not_change_the_key(tmp_path, change):
    """Where outputs go, logging, workers and pictures do not decide the
    predictions: a rerun with --show-dir or --work-dir still replays."""
    cfg, dataset, _ = _setup(tmp_path)
    cfg.merge_from_dict(
        dict(
            test_cfg=dict(type='ResumableTestLoop'),
            test_dataloader=dict(num_workers=0)))
    before = key(cfg, dataset)
    if change == 'show_hook':
        cfg.custom_hooks = [
            dict(type='EpisodeVisualizationHook', out_dir='vis')
        ]
    else:
        cfg.merge_from_dict({change: 'x/y'})
    assert key(cfg, dataset) == before


def test_an_edited_custom_import_changes_the_key(tmp_path, monkeypatch):
    """Issue 35 case 1: a map loss of the user's own, imported by
    ``custom_imports`` (docs/extending.md), edited between two runs of the
    same work dir replayed every episode (its code was not in the key)."""
    cfg, dataset, _ = _setup(tmp_path)
    code = tmp_path / 'code'
    code.mkdir()
    module = code / 'my_map_loss.py'
    module.write_text('SCALE = 1\n')
    monkeypatch.syspath_prepend(str(code))
    cfg.custom_imports = dict(imports=['my_map_loss'])
    before = key(cfg, dataset)
    assert key(cfg, dataset) == before
    module.write_text('SCALE = 2\n')
    assert key(cfg, dataset) != before
    module.write_text('SCALE = 1\n')
    assert key(cfg, dataset) == before


def test_a_package_import_is_keyed_by_all_its_files(tmp_path, monkeypatch):
    cfg, dataset, _ = _setup(tmp_path)
    package = tmp_path / 'code' / 'my_pkg'
    package.mkdir(parents=True)
    (package / '__init__.py').write_text('')
    (package / 'losses.py').write_text('A = 1\n')
    monkeypatch.syspath_prepend(str(tmp_path / 'code'))
    cfg.custom_imports = dict(imports=['my_pkg'])
    before = key(cfg, dataset)
    (package / 'losses.py').write_text('A = 2\n')
    assert key(cfg, dataset) != before


def test_files_beside_the_sd_components_are_not_keyed(tmp_path):
    """Only what ``from_pretrained`` reads: ``model_index.json`` and the
    component folders it names. A CPT checkpoint saved into the SD folder
    (data/toy_sd/cpt_toy.pth) no longer recomputes every cached run; a
    changed component still does."""
    cfg, dataset, files = _setup(tmp_path)
    sd = files['sd']
    (sd / 'model_index.json').write_text(
        json.dumps(
            dict(
                _class_name='StableDiffusionPipeline',
                unet=['diffusers', 'UNet2DConditionModel'])))
    before = key(cfg, dataset)
    (sd / 'cpt_toy.pth').write_bytes(b'a CPT checkpoint')
    (sd / 'README.md').write_text('notes')
    assert key(cfg, dataset) == before
    (sd / 'unet' / 'model.safetensors').write_bytes(b'unet v2')
    changed = key(cfg, dataset)
    assert changed != before
    (sd / 'model_index.json').write_text(
        json.dumps(
            dict(
                _class_name='StableDiffusionPipeline',
                unet=['diffusers', 'UNet2DConditionModel'],
                vae=['diffusers', 'AutoencoderKL'])))
    assert key(cfg, dataset) != changed  # the index, and a missing vae
