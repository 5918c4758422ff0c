# Copyright (c) mmppm contributors. All rights reserved.
"""Loading Stable Diffusion parts with diffusers ``from_pretrained``.

``pretrained`` is either a hub id (``'runwayml/stable-diffusion-v1-5'``) or a
local folder in the diffusers layout (``unet/``, ``vae/``, ``scheduler/``,
optionally ``text_encoder/`` and ``tokenizer/``). Any failure becomes one
:class:`SDWeightsNotFoundError` naming the id or folder and how to fix it;
with ``HF_HUB_OFFLINE=1`` nothing touches the network.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional

import torch

from .errors import MissingFileError

REQUIRED_SUBFOLDERS = ('unet', 'vae', 'scheduler')
TEXT_SUBFOLDERS = ('text_encoder', 'tokenizer')
SDXL_TEXT_SUBFOLDERS = ('text_encoder_2', 'tokenizer_2')
SUPPORTED = ('Stable Diffusion 1.x, 2.x (epsilon or v-prediction) and SDXL '
             'UNet folders (unet/ vae/ scheduler/)')
#: Pipelines whose folders PPM cannot serve, and why.
UNSUPPORTED_PIPELINES = {
    'StableDiffusion3Pipeline': 'a transformer (MMDiT), not a UNet',
    'FluxPipeline': 'a transformer, not a UNet',
    'PixArtAlphaPipeline': 'a transformer, not a UNet',
    'StableDiffusionInpaintPipeline': 'an inpainting UNet (9 input channels)',
    'StableDiffusionXLInpaintPipeline':
    'an inpainting UNet (9 input channels)',
    'StableDiffusionDepth2ImgPipeline': 'a depth UNet (5 input channels)',
    'StableDiffusionUpscalePipeline': 'an upscaler UNet (class-conditioned)',
}

HOW_TO_GET = (
    'Download the weights on a machine with internet access, e.g. '
    '`huggingface-cli download {id} --local-dir /path/to/sd` (or, in Python, '
    '`StableDiffusionPipeline.from_pretrained("{id}").save_pretrained('
    '"/path/to/sd")`), then set `model.backbone.pretrained=/path/to/sd` '
    '(e.g. `--cfg-options model.backbone.pretrained=/path/to/sd`).')


class SDWeightsNotFoundError(MissingFileError):
    """Stable Diffusion weights could not be found or loaded."""


def _is_offline() -> bool:
    return os.environ.get('HF_HUB_OFFLINE', '0').lower() in ('1', 'true',
                                                               'yes', 'on')


def _looks_like_path(pretrained: str) -> bool:
    """A local folder unless it is shaped like a hub id ``owner/name``."""
    return (osp.isdir(pretrained) or pretrained.startswith(('/', '.', '~'))
            or pretrained.count('/') != 1)


def check_folder_kind(folder: str) -> None:
    """One error naming what a local folder holds when it is a kind PPM
    cannot serve (read from ``model_index.json`` and the subfolders)."""
    name = None
    try:
        with open(osp.join(folder, 'model_index.json'),
                  encoding='utf-8') as f:
            name = json.load(f).get('_class_name')
    except (OSError, ValueError, AttributeError):
        pass
    if name in UNSUPPORTED_PIPELINES:
        raise SDWeightsNotFoundError(
            f'{folder!r} holds a {name} ({UNSUPPORTED_PIPELINES[name]}); PPM '
            f'serves {SUPPORTED}')
    if osp.isdir(osp.join(folder, 'transformer')) and not osp.isdir(
            osp.join(folder, 'unet')):
        raise SDWeightsNotFoundError(
            f'{folder!r} holds a transformer-based diffusion model '
            f'(transformer/, no unet/: SD 3 or Flux?); PPM serves '
            f'{SUPPORTED}')


def _check_folder(folder: str, subfolders) -> None:
    if not osp.isdir(folder):
        raise SDWeightsNotFoundError(
            f'Stable Diffusion folder not found: {folder!r}. '
            + HOW_TO_GET.format(id='runwayml/stable-diffusion-v1-5'))
    missing = []
    for sub in subfolders:
        cfg_name = ('tokenizer_config.json' if sub.startswith('tokenizer')
                    else 'scheduler_config.json' if sub == 'scheduler' else
                    'config.json')
        if not osp.isfile(osp.join(folder, sub, cfg_name)):
            missing.append(f'{sub}/{cfg_name}')
    if missing:
        raise SDWeightsNotFoundError(
            f'Stable Diffusion folder {folder!r} is incomplete: missing '
            f'{", ".join(missing)}. ' +
            HOW_TO_GET.format(id='runwayml/stable-diffusion-v1-5'))


def load_sd_components(pretrained: str,
                       revision: Optional[str] = None,
                       variant: Optional[str] = None,
                       torch_dtype: torch.dtype = torch.float32,
                       with_text_encoder: bool = False) -> Dict[str, object]:
    """Load VAE, UNet and DDPM scheduler (and text encoder, tokenizer).

    Args:
        pretrained (str): Hub id or local folder.
        revision (str, optional): Hub revision. Defaults to None.
        variant (str, optional): Weight variant, e.g. ``'fp16'``. Defaults to
            None.
        torch_dtype (torch.dtype): Weight dtype. Defaults to float32.
        with_text_encoder (bool): Also load ``text_encoder`` and
            ``tokenizer``. Defaults to False.

    Returns:
        dict: ``unet``, ``vae``, ``scheduler`` (and ``text_encoder``,
        ``tokenizer``).

    Raises:
        SDWeightsNotFoundError: Folder missing or incomplete, or hub id not
            available (offline and not cached, or unknown).
    """
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    subfolders = REQUIRED_SUBFOLDERS + (TEXT_SUBFOLDERS
                                        if with_text_encoder else ())
    load = _part_loader(pretrained, subfolders, revision)
    parts = dict(
        unet=load(UNet2DConditionModel, 'unet', torch_dtype=torch_dtype,
                  variant=variant),
        vae=load(AutoencoderKL, 'vae', torch_dtype=torch_dtype,
                 variant=variant),
        scheduler=load(DDPMScheduler, 'scheduler'))
    if with_text_encoder:
        sdxl = parts['unet'].config.get('addition_embed_type') == 'text_time'
        parts.update(load_text_components(pretrained, revision, torch_dtype,
                                          sdxl=sdxl))
    return parts


def load_text_components(pretrained: str,
                         revision: Optional[str] = None,
                         torch_dtype: torch.dtype = torch.float32,
                         sdxl: bool = False) -> Dict[str, object]:
    """Load only ``text_encoder`` (``CLIPTextModel``) and ``tokenizer``
    (``CLIPTokenizer``), and for SDXL also ``text_encoder_2``
    (``CLIPTextModelWithProjection``) and ``tokenizer_2``, with the errors
    of :func:`load_sd_components`."""
    from transformers import (CLIPTextModel, CLIPTextModelWithProjection,
                              CLIPTokenizer)
    load = _part_loader(pretrained, TEXT_SUBFOLDERS +
                        (SDXL_TEXT_SUBFOLDERS if sdxl else ()), revision)
    parts = dict(text_encoder=load(CLIPTextModel, 'text_encoder',
                                   torch_dtype=torch_dtype),
                 tokenizer=load(CLIPTokenizer, 'tokenizer'))
    if sdxl:
        parts.update(text_encoder_2=load(CLIPTextModelWithProjection,
                                         'text_encoder_2',
                                         torch_dtype=torch_dtype),
                     tokenizer_2=load(CLIPTokenizer, 'tokenizer_2'))
    return parts


def _part_loader(pretrained: str, subfolders, revision: Optional[str]):
    """``load(cls, subfolder, **kwargs)`` for one SD folder or hub id: its
    failures become :class:`SDWeightsNotFoundError` naming it."""
    pretrained = osp.expanduser(str(pretrained))
    is_local = _looks_like_path(pretrained)
    if is_local:
        if osp.isdir(pretrained):
            check_folder_kind(pretrained)
        _check_folder(pretrained, subfolders)
    kwargs = dict(revision=revision)
    if not is_local and _is_offline():
        kwargs['local_files_only'] = True

    def load(cls, sub, **extra):
        try:
            return cls.from_pretrained(
                pretrained, subfolder=sub, **kwargs, **extra)
        except (TypeError, KeyError) as e:
            # a config.json value of the wrong type or a missing key (e.g.
            # "norm_num_groups": "8"): the folder is damaged, not missing
            raise SDWeightsNotFoundError(
                f'Could not build "{sub}" of Stable Diffusion from '
                f'{pretrained!r}: {type(e).__name__}: '
                f'{str(e).splitlines()[0] if str(e) else e!r}; its '
                f'{sub}/config.json holds a value of the wrong type or misses '
                'a key (edited by hand, or from another diffusers '
                'version?): restore the folder or download it again') from e
        except (OSError, ValueError) as e:
            where = (f'folder {pretrained!r}' if is_local else
                     f'hub id {pretrained!r} (no local folder of that name '
                     f'exists either)')
            offline = (' HF_HUB_OFFLINE is set, so only the local cache was '
                       'searched.' if _is_offline() and not is_local else
                       ' Without internet access set HF_HUB_OFFLINE=1 and '
                       'use a local folder.')
            raise SDWeightsNotFoundError(
                f'Could not load "{sub}" of Stable Diffusion from {where}: '
                f'{type(e).__name__}: {str(e).splitlines()[0]}.{offline} '
                + HOW_TO_GET.format(
                    id=pretrained if not is_local else
                    'runwayml/stable-diffusion-v1-5')) from e

    return load
