# Copyright (c) mmppm contributors. All rights reserved.
"""``tools/analysis/cpt_phi_report.py`` on the toy SD and its CPT
checkpoint (data/toy_sd/cpt_toy.pth)."""
import json
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'cpt', 'ppm_cpt_toy-sd_toy.py')
CHECKPOINT = osp.join(REPO, 'data', 'toy_sd', 'cpt_toy.pth')
REPORT_KEYS = {
    'checkpoint', 'num_prompts', 'embed_dims', 'effective_rank_mean',
    'effective_rank_min', 'effective_rank_max', 'top_singular_value_mean',
    'singular_value_ratio_mean', 'output_norm_mean', 'input_norm_mean',
    'token_norm_mean'
}


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('analysis/cpt_phi_report.py')


def test_trained_and_untrained_reports(tool, tmp_path, capsys):
    out = tmp_path / 'report.json'
    tool.main([
        CONFIG, CHECKPOINT, 'untrained', '--num-prompts', '4', '--out',
        str(out)
    ])
    # the report's lines (not log records a logger of an earlier test may
    # also send to stdout)
    printed = [
        line for line in capsys.readouterr().out.splitlines()
        if ' - mmengine - ' not in line
    ]
    assert printed[0].startswith('4 prompts ~ N(0, 0.1^2) in c = 128')
    assert printed[1].startswith(f'{CHECKPOINT}: effective rank ')
    assert printed[2].startswith('untrained: effective rank ')
    result = json.loads(out.read_text())
    assert result['num_prompts'] == 4 and result['prompt_std'] == 0.1
    assert len(result['token_norms']) == len(result['words']) == 8
    trained, untrained = result['checkpoints']
    assert set(trained) == set(untrained) == REPORT_KEYS
    assert trained['checkpoint'] == CHECKPOINT
    assert untrained['checkpoint'] == 'untrained'
    # the same prompts, different encoders
    assert trained['input_norm_mean'] == untrained['input_norm_mean']
    assert trained['effective_rank_mean'] != untrained['effective_rank_mean']
    assert trained['output_norm_mean'] != untrained['output_norm_mean']
    assert 1 <= trained['effective_rank_min'] <= 128


def test_missing_checkpoint_is_one_line(tool, tmp_path, capsys,
                                        one_line_error):
    missing = str(tmp_path / 'nope.pth')
    line = one_line_error(tool.main, [CONFIG, 'untrained', missing])
    assert line == (
        f'error: checkpoint not found: {missing}: pass a CPT checkpoint file '
        '(e.g. work_dirs/<config name>/best.pth) or the word untrained for '
        'the freshly initialised encoder')


def test_not_a_checkpoint_and_not_a_cpt_config(tool, tmp_path, capsys,
                                               one_line_error):
    junk = tmp_path / 'junk.pth'
    junk.write_bytes(b'not a checkpoint')
    line = one_line_error(tool.main, [CONFIG, str(junk)])
    assert line.startswith(f'error: not a checkpoint: {junk} (')
    missing = str(tmp_path / 'nope.py')
    line = one_line_error(tool.main, [missing, 'untrained'])
    assert line.startswith(f'error: config file not found: {missing}: ')
    ppm = osp.join(REPO, 'configs', 'ppm', 'ppm_toy-sd_1shot_toy.py')
    line = one_line_error(tool.main, [ppm, 'untrained'])
    assert line.startswith(f'error: {ppm} has no model.prompt_encoder')


def test_arguments_out_of_range(tool, capsys):
    for argv in (['--num-prompts', '0'], ['--prompt-std', '-1']):
        with pytest.raises(SystemExit) as exc:
            tool.main([CONFIG, 'untrained'] + argv)
        assert exc.value.code == 2
        assert 'is not allowed' in capsys.readouterr().err
