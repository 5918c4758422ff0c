import math
import time

import pytest
import torch

from mmppm.models import SDCrossAttnBackbone
from mmppm.utils import SDWeightsNotFoundError, load_sd_components


@pytest.fixture(scope='module')
def backbone(random_sd_dir):
    return SDCrossAttnBackbone(random_sd_dir, input_size=(64, 64))


def _inputs(backbone, batch=2, tokens=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(batch, 3, 64, 64, generator=g) * 2 - 1
    zt, _ = backbone.add_noise(backbone.encode(images), g)
    prompts = torch.randn(
        batch, tokens, backbone.cross_attention_dim, generator=g)
    return zt, prompts


def test_init_loads_frozen_sd_outside_state_dict(backbone):
    assert backbone.timestep == 10
    assert len(backbone.layer_names) == 7  # all attn2 layers of the tiny UNet
    assert all(n.endswith('attn2.processor') for n in backbone.layer_names)
    assert list(backbone.parameters()) == []
    assert backbone.state_dict() == {}
    assert not any(p.requires_grad for p in backbone.unet.parameters())
    assert not backbone.unet.training and not backbone.vae.training
    backbone.train()
    assert not backbone.unet.training


def test_encode_and_add_noise(backbone):
    images = torch.zeros(1, 3, 32, 32)  # resized to input_size 64
    z = backbone.encode(images)
    assert z.shape == (1, 4, 8, 8)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    zt1, eps1 = backbone.add_noise(z, g1)
    zt2, eps2 = backbone.add_noise(z, g2)
    torch.testing.assert_close(zt1, zt2)
    a = backbone.scheduler.alphas_cumprod[10]
    torch.testing.assert_close(zt1, a.sqrt() * z + (1 - a).sqrt() * eps1)


def test_forward_shapes(backbone):
    zt, prompts = _inputs(backbone, batch=2, tokens=3)
    out = backbone(zt, prompts, map_size=(20, 24))
    assert out['maps'].shape == (2, 3, 20, 24)
    assert out['dm_pred'].shape == zt.shape
    assert set(out['layer_maps']) == set(backbone.layer_names)
    shapes = {tuple(m.shape[-2:]) for m in out['layer_maps'].values()}
    assert shapes == {(8, 8), (4, 4)}
    assert ((out['maps'] > 0) & (out['maps'] < 1)).all()


def test_layer_map_equals_hand_computation(backbone):
    zt, prompts = _inputs(backbone, batch=2, tokens=2, seed=1)
    name = backbone.layer_names[1]
    attn = backbone.unet.get_submodule(name[:-len('.processor')])
    seen = {}

    def hook(module, args, kwargs):
        seen['x'] = args[0] if args else kwargs['hidden_states']
        seen['ctx'] = kwargs['encoder_hidden_states']

    handle = attn.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        out = backbone(zt, prompts)
    finally:
        handle.remove()
    q = attn.to_q(seen['x'])  # [B, N, inner]
    k = attn.to_k(seen['ctx'])  # [B, T, inner]
    heads, d = attn.heads, q.shape[-1] // attn.heads
    b, n, _ = q.shape
    scores = torch.einsum('bnhd,bthd->bhtn', q.reshape(b, n, heads, d),
                          k.reshape(b, 2, heads, d)) / math.sqrt(d)
    expected = torch.sigmoid(scores.mean(dim=1))  # [B, T, N]
    hw = out['layer_maps'][name].shape[-2:]
    torch.testing.assert_close(out['layer_maps'][name],
                               expected.reshape(b, 2, *hw))


@pytest.mark.parametrize('tokens', [1, 3])
def test_dm_pred_equals_default_processors(backbone, random_sd_dir, tokens):
    zt, prompts = _inputs(backbone, tokens=tokens, seed=2)
    ours = backbone(zt, prompts)['dm_pred']
    reference = load_sd_components(random_sd_dir)['unet']  # diffusers defaults
    t = torch.full((zt.shape[0], ), 10)
    with torch.no_grad():
        expected = reference(zt, t, encoder_hidden_states=prompts).sample
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-5)


def test_one_token_shortcut_equals_general_path(backbone, random_sd_dir):
    general = SDCrossAttnBackbone(
        random_sd_dir, input_size=(64, 64), one_token_shortcut=False)
    zt, prompts = _inputs(backbone, tokens=1, seed=3)
    fast, slow = backbone(zt, prompts), general(zt, prompts)
    torch.testing.assert_close(
        fast['dm_pred'], slow['dm_pred'], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        fast['maps'], slow['maps'], atol=1e-6, rtol=1e-5)


def test_gradients_reach_prompts_only(backbone):
    zt, prompts = _inputs(backbone, seed=4)
    prompts.requires_grad_(True)
    out = backbone(zt, prompts)
    # The map term alone must give the prompt a gradient (sigmoid, not
    # softmax: a softmax over one token would be constant).
    (g_map, ) = torch.autograd.grad(
        out['maps'].mean(), prompts, retain_graph=True)
    assert g_map.abs().sum() > 0
    out['dm_pred'].pow(2).mean().backward()
    assert prompts.grad.abs().sum() > 0
    for module in (backbone.unet, backbone.vae):
        assert all(p.grad is None for p in module.parameters())


def test_gradient_checkpointing_same_gradients(backbone, random_sd_dir):
    ckpt = SDCrossAttnBackbone(
        random_sd_dir, input_size=(64, 64), gradient_checkpointing=True)
    zt, prompts = _inputs(backbone, seed=5)
    grads = []
    for model in (backbone, ckpt):
        p = prompts.clone().requires_grad_(True)
        out = model(zt, p)
        (out['maps'].mean() + out['dm_pred'].pow(2).mean()).backward()
        grads.append(p.grad)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-6, rtol=1e-4)


def test_compiled_unet_same_maps_and_gradients(backbone, random_sd_dir):
    # backend='eager': dynamo traces the UNet with the capture processors
    # (the graph every backend gets) without inductor's code generation,
    # which takes minutes on a small CPU.
    compiled = SDCrossAttnBackbone(
        random_sd_dir,
        input_size=(64, 64),
        compile_cfg=dict(backend='eager', dynamic=True))
    assert compiled.state_dict() == {}
    assert compiled._compiled_forward is not None
    for batch, seed in ((2, 6), (3, 7)):  # a second batch size too
        zt, prompts = _inputs(backbone, batch=batch, seed=seed)
        outs, grads = [], []
        for model in (backbone, compiled):
            p = prompts.clone().requires_grad_(True)
            out = model(zt, p)
            (out['maps'].mean() + out['dm_pred'].pow(2).mean()).backward()
            outs.append(out)
            grads.append(p.grad)
        torch.testing.assert_close(
            outs[0]['maps'], outs[1]['maps'], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(
            outs[0]['dm_pred'], outs[1]['dm_pred'], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(grads[0], grads[1], atol=1e-6, rtol=1e-4)
    compiled_forward = compiled._compiled_forward
    with compiled.eager_unet():
        assert compiled._compiled_forward is None
    assert compiled._compiled_forward is compiled_forward


def test_bad_compile_cfg(random_sd_dir):
    with pytest.raises(TypeError, match='compile_cfg must be None or a dict'):
        SDCrossAttnBackbone(random_sd_dir, compile_cfg='max-autotune')
    with pytest.raises(ValueError, match='compile_cfg=.*torch.compile'):
        SDCrossAttnBackbone(random_sd_dir, compile_cfg=dict(modes='fast'))


def test_layer_subset_and_names_without_suffix(backbone, random_sd_dir):
    short = backbone.layer_names[0][:-len('.processor')]
    sub = SDCrossAttnBackbone(
        random_sd_dir, input_size=(64, 64), layers=[short])
    zt, prompts = _inputs(backbone, seed=6)
    out = sub(zt, prompts, map_size=(8, 8))
    assert list(out['layer_maps']) == [short + '.processor']
    full = backbone(zt, prompts, map_size=(8, 8))
    torch.testing.assert_close(out['maps'],
                               full['layer_maps'][short + '.processor'])


def test_unknown_layer_lists_valid_names(random_sd_dir):
    with pytest.raises(ValueError) as err:
        SDCrossAttnBackbone(random_sd_dir, layers=['down_blocks.9.attn2'])
    msg = str(err.value)
    assert 'down_blocks.9.attn2' in msg
    assert 'mid_block.attentions.0.transformer_blocks.0.attn2' in msg


def test_empty_text_layout(random_sd_dir):
    b = SDCrossAttnBackbone(
        random_sd_dir, input_size=(64, 64), context_layout='empty_text')
    assert b.empty_text_embedding.shape == (1, 77, b.cross_attention_dim)
    zt, prompts = _inputs(b, tokens=2, seed=7)
    context, tokens = b.build_context(prompts)
    assert context.shape == (2, 79, b.cross_attention_dim)
    torch.testing.assert_close(context[:, tokens], prompts)
    out = b(zt, prompts)
    assert out['maps'].shape[:2] == (2, 2)


def test_to_dtype_moves_frozen_parts(random_sd_dir):
    b = SDCrossAttnBackbone(random_sd_dir, input_size=(64, 64)).double()
    assert b.unet.dtype == torch.float64 and b.vae.dtype == torch.float64


def test_restore_processors(random_sd_dir):
    b = SDCrossAttnBackbone(random_sd_dir, input_size=(64, 64))
    b.restore_processors()
    assert not any(
        type(p).__name__ == 'CrossAttnMapProcessor'
        for p in b.unet.attn_processors.values())


def test_missing_folder_error(tmp_path):
    missing = str(tmp_path / 'no_such_sd')
    with pytest.raises(SDWeightsNotFoundError, match='no_such_sd'):
        SDCrossAttnBackbone(missing)


def test_incomplete_folder_error(tmp_path):
    (tmp_path / 'unet').mkdir()
    with pytest.raises(
            SDWeightsNotFoundError, match=r'incomplete.*vae/config\.json'):
        load_sd_components(str(tmp_path))


def test_unknown_hub_id_offline_fails_fast(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    start = time.time()
    with pytest.raises(SDWeightsNotFoundError) as err:
        load_sd_components('nobody/no-such-model-xyz')
    assert time.time() - start < 10
    msg = str(err.value)
    assert 'nobody/no-such-model-xyz' in msg and 'HF_HUB_OFFLINE' in msg


def test_bad_config_values(random_sd_dir):
    with pytest.raises(ValueError, match='map_reduction'):
        SDCrossAttnBackbone(random_sd_dir, map_reduction='max')
    with pytest.raises(ValueError, match='timestep'):
        SDCrossAttnBackbone(random_sd_dir, timestep=5000)
