# Copyright (c) mmppm contributors. All rights reserved.
"""SD folders PPM can or cannot use, named in one line before the UNet runs
(issue 29, case 14)."""
import json
import os.path as osp
import shutil

import pytest

from mmppm.models.backbones import SDCrossAttnBackbone
from mmppm.utils.errors import SDWeightsNotFoundError
from mmppm.utils.sd_loading import pipeline_name, text_width


@pytest.fixture
def sd_copy(random_sd_dir, tmp_path):
    """A writable copy of the tiny random SD (UNet cross_attention_dim 32,
    text encoder hidden_size 32)."""
    folder = str(tmp_path / 'sd')
    shutil.copytree(random_sd_dir, folder)
    return folder


def _edit_index(folder, **values):
    path = osp.join(folder, 'model_index.json')
    with open(path) as f:
        index = json.load(f)
    index.update(values)
    with open(path, 'w') as f:
        json.dump(index, f)


def test_pipeline_name():
    assert pipeline_name({'_class_name': 'StableDiffusionPipeline'
                          }) == ('StableDiffusionPipeline', None)
    assert pipeline_name({'_class_name':
                          ['my_pipe',
                           'MyPipeline']}) == ('MyPipeline', 'my_pipe')
    assert pipeline_name({}) == (None, None)
    assert pipeline_name([]) == (None, None)


def test_a_custom_pipeline_with_sd_parts_loads(sd_copy):
    """``_class_name`` a list (diffusers' custom pipeline): was a
    TypeError; the parts PPM loads are ordinary SD parts."""
    _edit_index(sd_copy, _class_name=['my_pipeline', 'MyPipeline'])
    backbone = SDCrossAttnBackbone(pretrained=sd_copy, input_size=(64, 64))
    assert backbone.cross_attention_dim == 32


def test_a_custom_pipeline_without_a_unet_is_named(sd_copy):
    _edit_index(sd_copy, _class_name=['my_pipeline', 'MyPipeline'])
    shutil.rmtree(osp.join(sd_copy, 'unet'))
    with pytest.raises(SDWeightsNotFoundError) as exc:
        SDCrossAttnBackbone(pretrained=sd_copy, input_size=(64, 64))
    assert str(exc.value) == (
        f'{sd_copy!r} holds a custom pipeline MyPipeline (module my_pipeline)'
        ' without the Stable Diffusion parts PPM loads (missing unet/); PPM '
        'serves Stable Diffusion 1.x, 2.x (epsilon or v-prediction) and SDXL '
        'UNet folders (unet/ vae/ scheduler/)')


def test_a_truncated_text_encoder_is_named(sd_copy):
    """Was a bare SafetensorError traceback."""
    path = osp.join(sd_copy, 'text_encoder', 'model.safetensors')
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(SDWeightsNotFoundError) as exc:
        SDCrossAttnBackbone(
            pretrained=sd_copy,
            input_size=(64, 64),
            context_layout='empty_text')
    msg = str(exc.value)
    assert msg.startswith(
        f'Could not load "text_encoder" of Stable Diffusion from {sd_copy!r}'
        ': a weight file in text_encoder/ is damaged (SafetensorError: ')
    assert msg.endswith('truncated by an interrupted download or copy?): '
                        'copy or download the folder again')
    assert '\n' not in msg


def test_a_text_encoder_narrower_than_the_unet_context_is_named(sd_copy):
    """Was a RuntimeError from the UNet's cross-attention."""
    from transformers import CLIPTextConfig, CLIPTextModel
    narrow = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=64,
            max_position_embeddings=77,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2))
    shutil.rmtree(osp.join(sd_copy, 'text_encoder'))
    narrow.save_pretrained(osp.join(sd_copy, 'text_encoder'))
    assert text_width(sd_copy) == 16
    with pytest.raises(SDWeightsNotFoundError) as exc:
        SDCrossAttnBackbone(
            pretrained=sd_copy,
            input_size=(64, 64),
            context_layout='empty_text')
    assert str(exc.value) == (
        f'{sd_copy!r}: its text encoder gives 16-wide tokens (text_encoder/'
        'config.json hidden_size) but its UNet takes a 32-wide context '
        '(unet/config.json cross_attention_dim), so the empty-text context '
        'cannot be built: put the text encoder of the same model in the '
        'folder, or use the prompt-only context (--cfg-options '
        'model.backbone.context_layout=prompt)')
    # the prompt-only context does not use the text encoder
    SDCrossAttnBackbone(pretrained=sd_copy, input_size=(64, 64))
