# Copyright (c) mmppm contributors. All rights reserved.
"""projects/toy_sd/tools/train_toy_sd.py end to end on tiny sizes: both
stages, then the folder is a text-to-image pipeline that diffusers and PPM
load."""
import json
import os.path as osp

import numpy as np
import pytest
import torch

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))


@pytest.fixture(scope='module')
def trained(tmp_path_factory, load_tool, write_tiny_toy_sd_configs):
    tmp = tmp_path_factory.mktemp('toy_sd_tool')
    vae_cfg, ldm_cfg = write_tiny_toy_sd_configs(tmp)
    tool = load_tool('projects/toy_sd/tools/train_toy_sd.py')
    out = str(tmp / 'sd')
    tool.main([
        '--work-dir',
        str(tmp / 'work'), '--out', out, '--vae-iters', '3', '--unet-iters',
        '3', '--vae-config', vae_cfg, '--ldm-config', ldm_cfg
    ])
    return tmp, out, tool, vae_cfg, ldm_cfg


def test_writes_a_pipeline_that_generates_from_a_caption(trained):
    from diffusers import StableDiffusionPipeline
    tmp, out, *_ = trained
    index = json.load(open(osp.join(out, 'model_index.json')))
    assert index['tokenizer'] == ['transformers', 'CLIPTokenizer']
    assert index['_mmppm_toy_sd']['unet']['iters'] == 3
    assert osp.isfile(tmp / 'work' / 'vae_reconstructions.png')
    pipe = StableDiffusionPipeline.from_pretrained(out)
    image = pipe(
        'darkazurering brightreddisc',
        num_inference_steps=2,
        generator=torch.Generator().manual_seed(0),
        output_type='np').images
    assert image.shape == (1, 32, 32, 3) and np.isfinite(image).all()


def test_ppm_backbone_loads_it_and_embeds_names(trained):
    from mmppm.models.backbones import SDCrossAttnBackbone
    _, out, *_ = trained
    backbone = SDCrossAttnBackbone(pretrained=out, input_size=(32, 32))
    assert backbone.cross_attention_dim == 8
    tokens = backbone.embed_texts(['darkazurering', 'brightreddisc'])
    assert tuple(tokens.shape) == (2, 8)
    assert not torch.allclose(tokens[0], tokens[1])
    # not part of the module tree: never in checkpoints
    assert not any('text_encoder' in k for k in backbone.state_dict())


def test_same_seed_same_weights_and_resume_continues(trained, tmp_path):
    from safetensors.torch import load_file
    tmp, out, tool, vae_cfg, ldm_cfg = trained
    again = str(tmp_path / 'sd')
    args = [
        '--work-dir',
        str(tmp_path / 'work'), '--vae-iters', '3', '--unet-iters', '3',
        '--vae-config', vae_cfg, '--ldm-config', ldm_cfg
    ]
    tool.main(args + ['--out', again])

    def weights(folder, part):
        return load_file(
            osp.join(folder, part, 'diffusion_pytorch_model.safetensors'))

    for part in ('unet', 'vae'):
        a, b = weights(out, part), weights(again, part)
        assert all(torch.equal(a[k], b[k]) for k in a)
    # --resume of a finished UNet stage changes nothing
    tool.main(args + ['--out', again, '--stage', 'unet', '--resume'])
    a, c = weights(out, 'unet'), weights(again, 'unet')
    assert all(torch.equal(a[k], c[k]) for k in a)


def test_refuses_a_foreign_out_folder_and_a_missing_vae(
        trained, tmp_path, capsys):
    *_, tool, vae_cfg, ldm_cfg = trained
    foreign = tmp_path / 'mine'
    foreign.mkdir()
    (foreign / 'notes.txt').write_text('keep')
    with pytest.raises(SystemExit, match='not written by this tool'):
        tool.main(['--out', str(foreign), '--work-dir', str(tmp_path / 'w')])
    with pytest.raises(SystemExit, match='no stage-1 VAE'):
        tool.main([
            '--stage', 'unet', '--work-dir',
            str(tmp_path / 'w2'), '--out',
            str(tmp_path / 'o')
        ])
    assert (foreign / 'notes.txt').read_text() == 'keep'


def test_word_localisation_counts_the_scenes_words(trained):
    from projects.toy_sd.word_localisation import (held_out_scenes,
                                                   word_localisation)
    _, out, *_ = trained
    result = word_localisation(out, num_scenes=4, batch=2)
    words = sum(len(s['words']) for s in held_out_scenes(4, crop_size=32))
    assert result['num_words'] == words and result['num_scenes'] == 4
    for mode in ('caption', 'word', 'cached'):
        assert 0 <= result[f'{mode}_own'] <= result[f'{mode}_any'] <= 1
    assert 0 < result['chance_own'] < 1


def test_resume_skips_a_truncated_newest_checkpoint(trained, tmp_path, capsys):
    """Case 8: --resume with a truncated newest checkpoint was a
    PytorchStreamReader traceback with no fallback (tools/train.py had
    one). Now the same fallback: the one before it, then on to the same
    VAE as the uninterrupted run."""
    from safetensors.torch import load_file
    tmp, _, tool, vae_cfg, _ = trained
    keep_two = tmp_path / 'vae_keep_two.py'
    keep_two.write_text(f'''
_base_ = ['{vae_cfg}']
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))
''')
    work = tmp_path / 'work'
    args = [
        '--work-dir',
        str(work), '--stage', 'vae', '--vae-iters', '3', '--vae-config',
        str(keep_two), '--out',
        str(tmp_path / 'sd')
    ]
    tool.main(args)
    ckpts = sorted(p.name for p in (work / 'vae').glob('*.pth'))
    assert ckpts == ['iter_2.pth', 'iter_3.pth']
    newest = work / 'vae' / 'iter_3.pth'
    newest.write_bytes(newest.read_bytes()[:200])  # killed while saving
    capsys.readouterr()
    tool.main(args + ['--resume'])
    log = capsys.readouterr().out  # MMLogger
    assert f'{newest} cannot be loaded (RuntimeError: PytorchStreamReader' \
        in log and 'trying the previous one' in log

    def vae(folder):
        return load_file(
            osp.join(folder, 'vae', 'diffusion_pytorch_model.safetensors'))

    resumed, uninterrupted = vae(work / 'vae_export'), vae(tmp / 'work' /
                                                           'vae_export')
    assert all(torch.equal(resumed[k], uninterrupted[k]) for k in resumed)


def test_the_shipped_model_is_replaced_only_when_asked_by_name(
        trained, tmp_path, monkeypatch):
    """Case 9: the default --out was data/toy_sd: a 2-iteration trial run
    replaced the shipped trained model (exit 0) and left cpt_toy.pth
    beside a model it was not trained with."""
    *_, tool, vae_cfg, ldm_cfg = trained
    args = tool.parse_args(['--work-dir', str(tmp_path / 'w')])
    assert args.out == str(tmp_path / 'w' / 'sd')  # under the work dir
    shipped = osp.join(REPO, 'data', 'toy_sd')
    index = open(osp.join(shipped, 'model_index.json')).read()
    for out in (shipped, osp.relpath(shipped), shipped + '/'):
        with pytest.raises(
                SystemExit,
                match=r'is the shipped trained model '
                r'.*add --overwrite-shipped to replace it'):
            tool.main([
                '--work-dir',
                str(tmp_path / 'w'), '--out', out, '--vae-iters', '2',
                '--unet-iters', '2'
            ])
    assert open(osp.join(shipped, 'model_index.json')).read() == index
    assert not (tmp_path / 'w').exists()  # refused before any work
    # asked by name (a stand-in for the shipped folder): the old folder,
    # with the cpt_toy.pth trained on it, is kept aside, not deleted
    fake = tmp_path / 'data' / 'toy_sd'
    fake.mkdir(parents=True)
    (fake / 'model_index.json').write_text('{"_mmppm_toy_sd": {}}')
    (fake / 'cpt_toy.pth').write_bytes(b'cpt of the old model')
    monkeypatch.setattr(tool, 'SHIPPED', str(fake))
    with pytest.raises(SystemExit, match='--overwrite-shipped'):
        tool.main(['--work-dir', str(tmp_path / 'w2'), '--out', str(fake)])
    tool.main([
        '--work-dir',
        str(tmp_path / 'w2'), '--out',
        str(fake), '--overwrite-shipped', '--vae-iters', '2', '--unet-iters',
        '2', '--vae-config', vae_cfg, '--ldm-config', ldm_cfg
    ])
    assert not (fake / 'cpt_toy.pth').exists()
    assert json.load(open(
        fake / 'model_index.json'))['_mmppm_toy_sd']['unet']['iters'] == 2
    previous = [
        p for p in (tmp_path / 'data').iterdir()
        if p.name.startswith('toy_sd.previous-')
    ]
    assert len(previous) == 1
    assert (previous[0] / 'cpt_toy.pth').read_bytes() == \
        b'cpt of the old model'
    assert sorted(p.name for p in (tmp_path / 'data').iterdir()) == sorted(
        ['toy_sd', previous[0].name])  # no temporary folder left


def test_a_failed_export_leaves_the_previous_folder(tmp_path):
    from mmppm.utils.atomic_io import atomic_folder
    out = tmp_path / 'sd'
    out.mkdir()
    (out / 'model_index.json').write_text('old')
    with pytest.raises(OSError):
        with atomic_folder(str(out)) as tmp:
            (tmp_path / 'x').write_text('')
            open(osp.join(tmp, 'model_index.json'), 'w').write('new, half')
            raise OSError(28, 'No space left on device')
    assert (out / 'model_index.json').read_text() == 'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['sd', 'x']
