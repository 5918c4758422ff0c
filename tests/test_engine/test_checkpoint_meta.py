# Copyright (c) mmppm contributors. All rights reserved.
"""A CPT checkpoint is tested as the prompt encoder it was trained as
(issue 35 case 3: the episodic recipe's residual-Phi checkpoint tested with
the plain-Phi config loaded without a word and scored 39.8 for 89.4)."""
from pathlib import Path
from types import SimpleNamespace

import pytest
from mmengine.config import Config

import mmppm  # noqa: F401
from mmppm.engine.checkpoint_meta import (check_prompt_encoder,
                                          saved_model_part, with_defaults)
from mmppm.engine.hooks import CheckpointModelHook
from mmppm.utils.errors import UserError

REPO = Path(__file__).resolve().parents[2]
SAVED = """model = dict(
    type='PPMEstimator',
    prompt_encoder=dict(residual=True, type='SharedPromptMLP'),
    test_cfg=dict(seed=0, thrs=(0.1, 0.2), names=['a', 'b']))
optim_wrapper = dict(optimizer=dict(lr=0.001, type='AdamW'))
"""


def test_the_saved_config_is_read_as_literals():
    assert saved_model_part(SAVED, 'prompt_encoder') == dict(
        residual=True, type='SharedPromptMLP')
    assert saved_model_part(SAVED, 'test_cfg') == dict(
        seed=0, thrs=(0.1, 0.2), names=['a', 'b'])
    assert saved_model_part(SAVED, 'head') is None
    assert saved_model_part(None, 'prompt_encoder') is None
    assert saved_model_part('model = (', 'prompt_encoder') is None


def test_the_saved_config_is_never_run(tmp_path):
    """A checkpoint is a file a user may be handed: code in its config
    text is not executed, and a model entry that is not literals reads as
    unknown."""
    flag = tmp_path / 'ran'
    text = (f"open({str(flag)!r}, 'w').write('x')\n"
            "model = dict(prompt_encoder=dict(type=__import__('os').name))\n")
    assert saved_model_part(text, 'prompt_encoder') is None
    assert not flag.exists()


def test_defaults_are_filled_in():
    assert with_defaults(dict(type='SharedPromptMLP')) == with_defaults(
        dict(type='SharedPromptMLP', residual=False))
    assert with_defaults(dict(type='SharedPromptMLP', embed_dims=8)) == \
        with_defaults(dict(type='SharedPromptMLP'))


def test_another_prompt_encoder_is_refused_in_one_line():
    meta = dict(cfg=SAVED)
    with pytest.raises(
            UserError,
            match=r"^checkpoint c.pth was trained with another CPT prompt "
            r"encoder than this config builds: residual=True \(config: "
            r"False\); test it with the config it was trained with .*"
            r"--cfg-options model.prompt_encoder.residual=True\)$"):
        check_prompt_encoder(meta,
                             dict(prompt_encoder=dict(type='SharedPromptMLP')),
                             'c.pth')
    check_prompt_encoder(
        meta, dict(prompt_encoder=dict(type='SharedPromptMLP', residual=True)),
        'c.pth')
    # nothing to compare: plain PPM, no saved config
    check_prompt_encoder(meta, dict(prompt_encoder=None), 'c.pth')
    check_prompt_encoder({}, dict(prompt_encoder=dict(type='X')), 'c.pth')


def test_the_hook_checks_before_the_weights_load():
    runner = SimpleNamespace(
        cfg=Config(
            dict(
                model=dict(prompt_encoder=dict(type='SharedPromptMLP')),
                load_from='w.pth')))
    with pytest.raises(UserError, match='^checkpoint w.pth was trained'):
        CheckpointModelHook().after_load_checkpoint(runner,
                                                    dict(meta=dict(cfg=SAVED)))


def test_the_shipped_episodic_checkpoint_with_the_plain_config(monkeypatch):
    """End to end through the API (the demo and the web page load
    checkpoints there): the shipped residual-Phi checkpoint with the plain
    config is refused; with its own config it loads."""
    from mmppm.apis import init_cape_model
    monkeypatch.chdir(REPO)  # the configs name data/toy_sd
    ckpt = 'data/toy_sd/cpt_toy_episodic.pth'
    with pytest.raises(UserError, match='residual=True \\(config: False\\)'):
        init_cape_model('configs/cpt/ppm_cpt_toy-sd_toy.py', ckpt)
    model = init_cape_model(
        'configs/cpt/ppm_cpt_toy-sd_mp100-bench_'
        'episodic.py', ckpt)
    assert model.prompt_encoder_ready
