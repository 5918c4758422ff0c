# Copyright (c) mmppm contributors. All rights reserved.
"""The CPT study's small tools: the study figure, and publishing a
checkpoint (weights and meta only, never over a file)."""
import json

import pytest
import torch


@pytest.fixture
def resumed_run(tmp_path):
    """A run of two sessions, three validations in all (how they are read
    as one curve: tests/test_analysis/test_training_curve.py)."""
    for stamp, steps in (('20260101_000000', (10, 20)), ('20260101_010000',
                                                         (30, ))):
        vis = tmp_path / stamp / 'vis_data'
        vis.mkdir(parents=True)
        rows = [
            row for step in steps for row in (dict(loss=1., step=step), {
                'PCK': .5,
                'fit_PCK@0.20': .6,
                'step': step
            })
        ]
        (vis / 'scalars.json').write_text('\n'.join(map(json.dumps, rows)))
    return tmp_path


def test_study_figure(load_tool, resumed_run, tmp_path, capsys,
                      one_line_error):
    tool = load_tool('analysis/cpt_study_figure.py')
    out = tmp_path / 'fig' / 'study.png'
    tool.main([
        '--run', f'a={resumed_run}', '--run', f'b={resumed_run}',
        '--reference', 'PPM=55', '--out',
        str(out)
    ])
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert capsys.readouterr().out.strip() == (
        f'{out}: a (3 validations), b (3 validations)')
    line = one_line_error(tool.main, ['--run', str(resumed_run)])
    assert line == f"error: --run {str(resumed_run)!r} must be LABEL=VALUE"
    line = one_line_error(
        tool.main, ['--run', f'a={resumed_run}', '--reference', 'PPM=high'])
    assert line == "error: --reference 'PPM=high': 'high' is not a number"


def test_publish_keeps_weights_and_meta_only(load_tool, tmp_path, capsys,
                                             one_line_error):
    tool = load_tool('misc/publish_checkpoint.py')
    weights = {'prompt_encoder.shared_prompt': torch.arange(4.)}
    src = tmp_path / 'iter_5.pth'
    torch.save(
        dict(
            meta=dict(iter=5),
            state_dict=weights,
            optimizer=dict(state={}, param_groups=[]),
            message_hub=dict(log_scalars={})), src)
    out = tmp_path / 'published.pth'
    tool.main([str(src), str(out)])
    published = torch.load(out, weights_only=True)
    assert set(published) == {'meta', 'state_dict'}
    assert published['meta'] == {'iter': 5}
    assert torch.equal(published['state_dict']['prompt_encoder.shared_prompt'],
                       torch.arange(4.))
    assert capsys.readouterr().out.strip() == (
        f'{out}: prompt_encoder.shared_prompt (iteration 5)')
    # never over a file, never a non-checkpoint
    before = out.read_bytes()
    line = one_line_error(tool.main, [str(src), str(out)])
    assert line.startswith(f'error: {out} exists: remove it first')
    assert out.read_bytes() == before
    junk = tmp_path / 'junk.pth'
    junk.write_bytes(b'not a checkpoint')
    line = one_line_error(tool.main, [str(junk), str(tmp_path / 'x.pth')])
    assert line.startswith(f'error: {junk} is not a loadable checkpoint')
    assert not (tmp_path / 'x.pth').exists()


def test_publish_records_the_training_categories(load_tool, tmp_path, toy_root,
                                                 capsys):
    """``--train-config``: a checkpoint saved before checkpoints recorded
    their training categories gets the digests of that config's training
    file (the shipped data/toy_sd checkpoints were published this way)."""
    from mmppm.datasets.category_digest import file_category_digests
    from mmppm.engine.hooks.category_hygiene_hook import META_KEY
    tool = load_tool('misc/publish_checkpoint.py')
    src = tmp_path / 'old.pth'
    torch.save(dict(meta=dict(iter=5), state_dict={'w': torch.ones(1)}), src)
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f'train_dataloader = dict(dataset=dict(data_root='
                   f'{str(toy_root) + "/"!r}, ann_file='
                   "'annotations/mp100_split1_train.json'))\n")
    out = tmp_path / 'published.pth'
    tool.main([str(src), str(out), '--train-config', str(cfg)])
    meta = torch.load(out, weights_only=True)['meta']
    expected = file_category_digests(
        str(toy_root / 'annotations' / 'mp100_split1_train.json'))
    assert meta[META_KEY] == expected
    assert sorted(expected.values()) == ['toy_cat00', 'toy_cat01']
    assert capsys.readouterr().out.strip().endswith(
        '(iteration 5, 2 training categories)')
