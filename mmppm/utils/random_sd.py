# Copyright (c) mmppm contributors. All rights reserved.
"""Random-weight Stable Diffusion folders for tests, the toy demo and
benchmarks.

:func:`save_random_sd` builds a UNet, VAE, DDPM scheduler (and optionally a
CLIP text encoder and tokenizer) from configs, as diffusers' own tests do, and
writes them with ``save_pretrained`` in the layout of a diffusers Stable
Diffusion folder. They are then loaded back through the same
``from_pretrained`` path that real weights take
(:func:`mmppm.utils.load_sd_components`).

Architectures (``arch``):

- ``'tiny'``: a few hundred thousand parameters, 7 cross-attention layers;
  seconds on a CPU. Tests and the toy demo.
- ``'mid'``: a scaled-down SD (two levels, 64/128 channels). CPU benchmarks.
- ``'sd15'``: the exact Stable Diffusion 1.5 UNet and VAE architecture (859.5 M
  UNet parameters) with random weights: the same cost as the real model, for
  speed and memory measurements without downloading anything.
- ``'sd21'`` / ``'sd21-base'``: the published SD 2.1 (768 px, v-prediction)
  and SD 2.1-base (512 px, epsilon) configurations: 1024-channel OpenCLIP
  context, linear projections, per-level head counts (865.9 M UNet
  parameters).
- ``'sdxl'``: the published SDXL base 1.0 configuration (2.57 B UNet
  parameters): three levels with 1 / 2 / 10 transformer blocks, 2048-channel
  context from two text encoders, pooled-text and time-id conditioning.
- ``'tiny-sd21-base'``, ``'tiny-sd21'``, ``'tiny-sdxl'``: small replicas of
  those (same block structure, conditioning and prediction type; widths
  shrunk), for tests.

:data:`ARCHS` holds the configurations; :func:`arch_family` says which
family (``sd1``, ``sd2``, ``sdxl``) an architecture replicates.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional

import torch

from mmppm.utils.errors import UserError
from .latent_scaling import unit_std_scaling_factor

QK_GAIN = 3.0

TINY_VAE = dict(
    sample_size=256,
    block_out_channels=(16, 32, 32, 32),
    down_block_types=('DownEncoderBlock2D', ) * 4,
    up_block_types=('UpDecoderBlock2D', ) * 4,
    layers_per_block=1,
    norm_num_groups=8,
    latent_channels=4)
TINY_TEXT = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4)
# The VAE of SD 1.x, 2.x and SDXL (one architecture; SDXL's scaling differs).
SD_VAE = dict(
    block_out_channels=(128, 256, 512, 512),
    down_block_types=('DownEncoderBlock2D', ) * 4,
    up_block_types=('UpDecoderBlock2D', ) * 4,
    layers_per_block=2,
    norm_num_groups=32,
    latent_channels=4)
SD21_UNET = dict(
    block_out_channels=(320, 640, 1280, 1280),
    layers_per_block=2,
    down_block_types=('CrossAttnDownBlock2D', 'CrossAttnDownBlock2D',
                      'CrossAttnDownBlock2D', 'DownBlock2D'),
    up_block_types=('UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D',
                    'CrossAttnUpBlock2D'),
    cross_attention_dim=1024,
    attention_head_dim=(5, 10, 20, 20),
    use_linear_projection=True,
    norm_num_groups=32)
# OpenCLIP ViT-H/14's text tower as SD 2.x ships it (23 of its 24 layers).
SD21_TEXT = dict(
    hidden_size=1024,
    intermediate_size=4096,
    num_hidden_layers=23,
    num_attention_heads=16,
    hidden_act='gelu',
    projection_dim=512)

ARCHS: Dict[str, dict] = dict(
    tiny=dict(
        unet=dict(
            sample_size=32,
            block_out_channels=(32, 64),
            layers_per_block=1,
            down_block_types=('CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'),
            up_block_types=('CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'),
            cross_attention_dim=32,
            attention_head_dim=8,
            norm_num_groups=8),
        vae=dict(
            sample_size=256,
            block_out_channels=(16, 32, 32, 32),
            down_block_types=('DownEncoderBlock2D', ) * 4,
            up_block_types=('UpDecoderBlock2D', ) * 4,
            layers_per_block=1,
            norm_num_groups=8,
            latent_channels=4),
        text=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4),
        calibrate_vae=True,
        qk_gain=QK_GAIN),
    mid=dict(
        unet=dict(
            sample_size=64,
            block_out_channels=(64, 128),
            layers_per_block=2,
            down_block_types=('CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'),
            up_block_types=('CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'),
            cross_attention_dim=256,
            attention_head_dim=8,
            norm_num_groups=32),
        vae=dict(
            sample_size=512,
            block_out_channels=(32, 64, 64, 64),
            down_block_types=('DownEncoderBlock2D', ) * 4,
            up_block_types=('UpDecoderBlock2D', ) * 4,
            layers_per_block=1,
            norm_num_groups=32,
            latent_channels=4),
        text=dict(
            hidden_size=256,
            intermediate_size=512,
            num_hidden_layers=2,
            num_attention_heads=4),
        calibrate_vae=True,
        qk_gain=QK_GAIN),
    sd15=dict(
        # UNet and VAE configs of Stable Diffusion 1.5.
        unet=dict(
            sample_size=64,
            block_out_channels=(320, 640, 1280, 1280),
            layers_per_block=2,
            down_block_types=('CrossAttnDownBlock2D', 'CrossAttnDownBlock2D',
                              'CrossAttnDownBlock2D', 'DownBlock2D'),
            up_block_types=('UpBlock2D', 'CrossAttnUpBlock2D',
                            'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'),
            cross_attention_dim=768,
            attention_head_dim=8,
            norm_num_groups=32),
        vae=dict(
            sample_size=512,
            block_out_channels=(128, 256, 512, 512),
            down_block_types=('DownEncoderBlock2D', ) * 4,
            up_block_types=('UpDecoderBlock2D', ) * 4,
            layers_per_block=2,
            norm_num_groups=32,
            latent_channels=4),
        text=dict(
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12),
        calibrate_vae=False,
        qk_gain=1.0),
    **{
        'tiny-sd21-base':
        dict(
            unet=dict(
                sample_size=32,
                block_out_channels=(32, 64),
                layers_per_block=1,
                down_block_types=('CrossAttnDownBlock2D',
                                  'CrossAttnDownBlock2D'),
                up_block_types=('CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'),
                cross_attention_dim=32,
                attention_head_dim=(2, 4),  # heads per level, as SD 2.x
                use_linear_projection=True,
                norm_num_groups=8),
            vae=TINY_VAE,
            text=TINY_TEXT,
            calibrate_vae=True,
            qk_gain=QK_GAIN),
        'tiny-sd21':
        dict(
            unet=dict(
                sample_size=32,
                block_out_channels=(32, 64),
                layers_per_block=1,
                down_block_types=('CrossAttnDownBlock2D',
                                  'CrossAttnDownBlock2D'),
                up_block_types=('CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'),
                cross_attention_dim=32,
                attention_head_dim=(2, 4),
                use_linear_projection=True,
                upcast_attention=True,
                norm_num_groups=8),
            vae=TINY_VAE,
            text=TINY_TEXT,
            scheduler=dict(prediction_type='v_prediction'),
            calibrate_vae=True,
            qk_gain=QK_GAIN),
        'tiny-sdxl':
        dict(
            unet=dict(
                sample_size=32,
                block_out_channels=(32, 64),
                layers_per_block=1,
                down_block_types=('DownBlock2D', 'CrossAttnDownBlock2D'),
                up_block_types=('CrossAttnUpBlock2D', 'UpBlock2D'),
                transformer_layers_per_block=(1, 2),
                cross_attention_dim=64,  # 32 + 32 from the two encoders
                attention_head_dim=(2, 4),
                use_linear_projection=True,
                addition_embed_type='text_time',
                addition_time_embed_dim=8,
                projection_class_embeddings_input_dim=32 + 6 * 8,
                norm_num_groups=8),
            vae=TINY_VAE,
            text=TINY_TEXT,
            text_2=dict(TINY_TEXT, projection_dim=32),
            calibrate_vae=True,
            qk_gain=QK_GAIN),
    },
    sd21=dict(
        # UNet, VAE, scheduler and text encoder of stabilityai/
        # stable-diffusion-2-1 (768 px, v-prediction).
        unet=dict(SD21_UNET, sample_size=96, upcast_attention=True),
        vae=dict(SD_VAE, sample_size=768),
        text=SD21_TEXT,
        scheduler=dict(prediction_type='v_prediction'),
        calibrate_vae=False,
        qk_gain=1.0),
    **{
        'sd21-base':
        dict(
            # stabilityai/stable-diffusion-2-1-base (512 px, epsilon).
            unet=dict(SD21_UNET, sample_size=64),
            vae=dict(SD_VAE, sample_size=512),
            text=SD21_TEXT,
            calibrate_vae=False,
            qk_gain=1.0),
    },
    sdxl=dict(
        # stabilityai/stable-diffusion-xl-base-1.0 (1024 px, epsilon).
        unet=dict(
            sample_size=128,
            block_out_channels=(320, 640, 1280),
            layers_per_block=2,
            down_block_types=('DownBlock2D', 'CrossAttnDownBlock2D',
                              'CrossAttnDownBlock2D'),
            up_block_types=('CrossAttnUpBlock2D', 'CrossAttnUpBlock2D',
                            'UpBlock2D'),
            transformer_layers_per_block=(1, 2, 10),
            attention_head_dim=(5, 10, 20),
            cross_attention_dim=2048,
            use_linear_projection=True,
            addition_embed_type='text_time',
            addition_time_embed_dim=256,
            projection_class_embeddings_input_dim=2816,
            norm_num_groups=32),
        vae=dict(
            SD_VAE,
            sample_size=1024,
            scaling_factor=0.13025,
            force_upcast=True),
        text=dict(
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12),
        text_2=dict(
            hidden_size=1280,
            intermediate_size=5120,
            num_hidden_layers=32,
            num_attention_heads=20,
            hidden_act='gelu',
            projection_dim=1280),
        calibrate_vae=False,
        qk_gain=1.0))

# The DDPM schedule of Stable Diffusion 1.x.
SCHEDULER_CFG = dict(
    num_train_timesteps=1000,
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule='scaled_linear',
    clip_sample=False)


def _write_tokenizer(folder: str) -> None:
    """A CLIP tokenizer with a minimal vocabulary (enough for '')."""
    from transformers import CLIPTokenizer
    os.makedirs(folder, exist_ok=True)
    vocab = {'<|startoftext|>': 0, '<|endoftext|>': 1}
    for i, ch in enumerate('abcdefghijklmnopqrstuvwxyz'):
        vocab[ch] = 2 + 2 * i
        vocab[ch + '</w>'] = 3 + 2 * i
    vocab_file = osp.join(folder, 'vocab.json')
    merges_file = osp.join(folder, 'merges.txt')
    with open(vocab_file, 'w') as f:
        json.dump(vocab, f)
    with open(merges_file, 'w') as f:
        f.write('#version: 0.2\n')
    tok = CLIPTokenizer(
        vocab_file,
        merges_file,
        model_max_length=77,
        pad_token='<|endoftext|>')
    tok.save_pretrained(folder)
    os.remove(vocab_file)
    os.remove(merges_file)


def _scale_qk(unet, gain: float) -> None:
    """Multiply the query and key projections of every attention layer."""
    with torch.no_grad():
        for name, module in unet.named_modules():
            if name.endswith(('.to_q', '.to_k')):
                module.weight.mul_(gain)


@torch.no_grad()
def _unit_std_scaling(vae, seed: int) -> float:
    """VAE latent scaling factor giving latents of unit std.

    This is how SD's 0.18215 was chosen. A random VAE's latents are far
    smaller than SD's, so with SD's factor the image would drown in the
    noise of timestep t. Measured on a fixed batch of smooth random images.
    """
    g = torch.Generator().manual_seed(seed)
    size = vae.config.sample_size
    low = torch.rand(8, 3, 8, 8, generator=g) * 2 - 1
    images = torch.nn.functional.interpolate(
        low, size=(size, size), mode='bilinear', align_corners=False)
    return unit_std_scaling_factor(vae, images)


def arch_family(arch: str) -> str:
    """The SD family an architecture of :data:`ARCHS` replicates
    (``'sd1'``, ``'sd2'`` or ``'sdxl'``)."""
    if arch not in ARCHS:
        raise UserError(f'Unknown SD architecture {arch!r}; choose one of '
                        f'{sorted(ARCHS)}')
    if 'sdxl' in arch:
        return 'sdxl'
    return 'sd2' if 'sd21' in arch else 'sd1'


def build_random_sd_parts(arch: str,
                          device: str = 'meta') -> Dict[str, object]:
    """UNet, VAE and DDPM scheduler of an architecture built in memory (no
    folder, no weights read), e.g. on the ``'meta'`` device to count FLOPs
    of models too large to write (``tools/analysis/project_split_cost.py``).
    Values are random or absent; only shapes and costs are meaningful.

    Returns:
        dict: ``unet``, ``vae``, ``scheduler`` (as
        :func:`mmppm.utils.load_sd_components` returns them).
    """
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    arch_family(arch)  # known architecture
    cfg = ARCHS[arch]
    with torch.device(device):
        unet = UNet2DConditionModel(**cfg['unet'])
        vae = AutoencoderKL(**cfg['vae'])
    scheduler = DDPMScheduler(
        **dict(SCHEDULER_CFG, **cfg.get('scheduler', {})))
    return dict(unet=unet, vae=vae, scheduler=scheduler)


def save_random_sd(out_dir: str,
                   arch: str = 'tiny',
                   seed: int = 0,
                   with_text_encoder: bool = True,
                   calibrate_vae: Optional[bool] = None,
                   qk_gain: Optional[float] = None) -> str:
    """Build a random-weight SD from configs and ``save_pretrained`` it.

    Deterministic: the same ``arch`` and ``seed`` give the same weights.

    Args:
        out_dir (str): Folder to write (created; existing files replaced).
        arch (str): One of :data:`ARCHS` (``'tiny'``, ``'mid'``, ``'sd15'``,
            ``'sd21'``, ``'sd21-base'``, ``'sdxl'`` and the ``'tiny-*'``
            replicas). Defaults to ``'tiny'``.
        seed (int): Seed of the random weights. Defaults to 0.
        with_text_encoder (bool): Also write the CLIP text encoder(s) and
            tokenizer(s) (two for SDXL; needed by the ``'empty_text'``
            context layout). Defaults to True.
        calibrate_vae (bool, optional): Set the VAE ``scaling_factor`` so that
            latents have unit std, as SD's factor does for SD's VAE. Defaults
            to the architecture's setting (True except for ``'sd15'``, which
            keeps SD's 0.18215).
        qk_gain (float, optional): Multiply the random ``to_q``/``to_k``
            weights so that attention scores are not all near 0 (PyTorch's
            default init shrinks them; trained SD's are not). Defaults to the
            architecture's setting.

    Returns:
        str: ``out_dir``.
    """
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    if arch not in ARCHS:
        raise UserError(f'Unknown SD architecture {arch!r}; choose one of '
                        f'{sorted(ARCHS)}')
    cfg = ARCHS[arch]
    calibrate_vae = cfg['calibrate_vae'] if calibrate_vae is None \
        else calibrate_vae
    qk_gain = cfg['qk_gain'] if qk_gain is None else qk_gain
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**cfg['unet'])
    if qk_gain != 1:
        _scale_qk(unet, qk_gain)
    unet.save_pretrained(osp.join(out_dir, 'unet'))
    torch.manual_seed(seed + 1)
    vae = AutoencoderKL(**cfg['vae'])
    if calibrate_vae:
        vae.register_to_config(scaling_factor=_unit_std_scaling(vae, seed))
    vae.save_pretrained(osp.join(out_dir, 'vae'))
    scheduler = DDPMScheduler(
        **dict(SCHEDULER_CFG, **cfg.get('scheduler', {})))
    scheduler.save_pretrained(osp.join(out_dir, 'scheduler'))
    index = dict(
        _class_name='StableDiffusionXLPipeline'
        if arch_family(arch) == 'sdxl' else 'StableDiffusionPipeline',
        _mmppm_random_arch=arch,
        _mmppm_seed=seed,
        unet=['diffusers', 'UNet2DConditionModel'],
        vae=['diffusers', 'AutoencoderKL'],
        scheduler=['diffusers', 'DDPMScheduler'])
    if with_text_encoder:
        from transformers import (CLIPTextConfig, CLIPTextModel,
                                  CLIPTextModelWithProjection)
        encoders = [('text_encoder', 'tokenizer', CLIPTextModel, cfg['text'])]
        if 'text_2' in cfg:
            encoders.append(('text_encoder_2', 'tokenizer_2',
                             CLIPTextModelWithProjection, cfg['text_2']))
        for i, (enc, tok, cls, text) in enumerate(encoders):
            torch.manual_seed(seed + 2 + i)
            text_cfg = CLIPTextConfig(
                vocab_size=64,
                max_position_embeddings=77,
                bos_token_id=0,
                eos_token_id=1,
                pad_token_id=1,
                **text)
            cls(text_cfg).save_pretrained(osp.join(out_dir, enc))
            _write_tokenizer(osp.join(out_dir, tok))
            index[enc] = ['transformers', cls.__name__]
            index[tok] = ['transformers', 'CLIPTokenizer']
    with open(osp.join(out_dir, 'model_index.json'), 'w') as f:
        json.dump(index, f, indent=2)
    return out_dir
