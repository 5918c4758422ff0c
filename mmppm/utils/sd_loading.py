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
from typing import Dict, Optional, Tuple

import torch
from safetensors import SafetensorError

from .errors import SDWeightsNotFoundError, first_line
from .numerics import is_int

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


def _is_offline() -> bool:
    return os.environ.get('HF_HUB_OFFLINE',
                          '0').lower() in ('1', 'true', 'yes', 'on')


def _looks_like_path(pretrained: str) -> bool:
    """A local folder unless it is shaped like a hub id ``owner/name``."""
    return (osp.isdir(pretrained) or pretrained.startswith(('/', '.', '~'))
            or pretrained.count('/') != 1)


def pipeline_name(index) -> Tuple[Optional[str], Optional[str]]:
    """The pipeline class a ``model_index.json`` names, and the module of a
    custom one: diffusers writes ``"_class_name": "StableDiffusionPipeline"``
    for its own pipelines and ``["my_pipeline", "MyPipeline"]`` (module,
    class) for a custom pipeline shipped with the folder.

    Returns:
        tuple: ``(class name, custom module)``; ``(None, None)`` where the
        index names none.
    """
    name = index.get('_class_name') if isinstance(index, dict) else None
    if isinstance(name, str):
        return name, None
    if isinstance(name, (list, tuple)) and len(name) == 2 and all(
            isinstance(n, str) for n in name):
        return name[1], name[0]
    return None, None


def check_folder_kind(folder: str) -> None:
    """One error naming what a local folder holds when it is a kind PPM
    cannot serve (read from ``model_index.json`` and the subfolders). A
    custom pipeline (``_class_name`` a list) is served when its folder has
    the SD parts PPM loads (``unet/ vae/ scheduler/``); otherwise the error
    names it."""
    name = module = None
    try:
        with open(osp.join(folder, 'model_index.json'), encoding='utf-8') as f:
            name, module = pipeline_name(json.load(f))
    except (OSError, ValueError):
        pass
    if module is not None:
        missing = [
            sub for sub in REQUIRED_SUBFOLDERS
            if not osp.isdir(osp.join(folder, sub))
        ]
        if missing:
            raise SDWeightsNotFoundError(
                f'{folder!r} holds a custom pipeline {name} (module '
                f'{module}) without the Stable Diffusion parts PPM loads '
                f'(missing {", ".join(s + "/" for s in missing)}); PPM '
                f'serves {SUPPORTED}')
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
            f'Stable Diffusion folder not found: {folder!r}. ' +
            HOW_TO_GET.format(id='runwayml/stable-diffusion-v1-5'))
    missing = []
    for sub in subfolders:
        cfg_name = (
            'tokenizer_config.json' if sub.startswith('tokenizer') else
            'scheduler_config.json' if sub == 'scheduler' else 'config.json')
        if not osp.isfile(osp.join(folder, sub, cfg_name)):
            missing.append(f'{sub}/{cfg_name}')
    if missing:
        raise SDWeightsNotFoundError(
            f'Stable Diffusion folder {folder!r} is incomplete: missing '
            f'{", ".join(missing)}. ' +
            HOW_TO_GET.format(id='runwayml/stable-diffusion-v1-5'))


def check_sd_folder(pretrained: str, with_text_encoder: bool = False) -> None:
    """The checks :func:`load_sd_components` makes before it loads anything,
    for a tool that loads the folder its own way (e.g. as a diffusers
    pipeline): a local folder exists, is a kind PPM serves and has its
    parts. A hub id is not checked.

    Raises:
        SDWeightsNotFoundError: Naming the folder and the fix.
    """
    pretrained = osp.expanduser(str(pretrained))
    if _looks_like_path(pretrained):
        if osp.isdir(pretrained):
            check_folder_kind(pretrained)
        _check_folder(
            pretrained,
            REQUIRED_SUBFOLDERS + (TEXT_SUBFOLDERS if with_text_encoder else
                                   ()))


def is_sdxl_folder(folder: str) -> bool:
    """A local folder whose UNet is SDXL's (``addition_embed_type`` is
    ``'text_time'``), read from ``unet/config.json``."""
    cfg = _read_config(osp.expanduser(str(folder)), 'unet') or {}
    return cfg.get('addition_embed_type') == 'text_time'


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
    subfolders = REQUIRED_SUBFOLDERS + (
        TEXT_SUBFOLDERS if with_text_encoder else ())
    load = _part_loader(pretrained, subfolders, revision)
    parts = dict(
        unet=load(
            UNet2DConditionModel,
            'unet',
            torch_dtype=torch_dtype,
            variant=variant),
        vae=load(
            AutoencoderKL, 'vae', torch_dtype=torch_dtype, variant=variant),
        scheduler=load(DDPMScheduler, 'scheduler'))
    if with_text_encoder:
        sdxl = parts['unet'].config.get('addition_embed_type') == 'text_time'
        check_text_width(pretrained, parts['unet'].config, sdxl)
        parts.update(
            load_text_components(pretrained, revision, torch_dtype, sdxl=sdxl))
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
    load = _part_loader(
        pretrained, TEXT_SUBFOLDERS + (SDXL_TEXT_SUBFOLDERS if sdxl else ()),
        revision)
    parts = dict(
        text_encoder=load(
            CLIPTextModel, 'text_encoder', torch_dtype=torch_dtype),
        tokenizer=load(CLIPTokenizer, 'tokenizer'))
    if sdxl:
        parts.update(
            text_encoder_2=load(
                CLIPTextModelWithProjection,
                'text_encoder_2',
                torch_dtype=torch_dtype),
            tokenizer_2=load(CLIPTokenizer, 'tokenizer_2'))
    return parts


def _read_config(folder: str, sub: str) -> Optional[dict]:
    """``folder/sub/config.json`` as a dict, or None (absent, unreadable:
    the loader names that)."""
    try:
        with open(osp.join(folder, sub, 'config.json'), encoding='utf-8') as f:
            cfg = json.load(f)
    except (OSError, ValueError):
        return None
    return cfg if isinstance(cfg, dict) else None


def text_width(folder: str, sdxl: bool = False) -> Optional[int]:
    """The width of the tokens the text encoder(s) of a local SD folder
    give: ``hidden_size`` of ``text_encoder`` (plus ``text_encoder_2``'s for
    SDXL, whose contexts concatenate both); None where a config is absent
    or holds no width. Read from the configs: no weights load."""
    widths = []
    for sub in ('text_encoder', ) + (('text_encoder_2', ) if sdxl else ()):
        cfg = _read_config(folder, sub) or {}
        width = cfg.get('hidden_size')
        if not is_int(width):
            return None
        widths.append(width)
    return sum(widths)


def check_text_width(pretrained: str, unet_config, sdxl: bool) -> None:
    """Before the text encoder loads: its tokens must be as wide as the
    UNet's cross-attention context (``cross_attention_dim``), or the
    ``'empty_text'`` context cannot be fed to the UNet.

    Args:
        pretrained (str): The SD folder (a hub id is not checked).
        unet_config (dict): The UNet's config.
        sdxl (bool): The folder has two text encoders.

    Raises:
        SDWeightsNotFoundError: Naming both widths and the fix.
    """
    folder = osp.expanduser(str(pretrained))
    if not osp.isdir(folder):
        return
    dim = unet_config.get('cross_attention_dim')
    width = text_width(folder, sdxl)
    if width is None or not is_int(dim) or width == dim:
        return
    which = ('text_encoder/ + text_encoder_2/ config.json hidden_size'
             if sdxl else 'text_encoder/config.json hidden_size')
    raise SDWeightsNotFoundError(
        f'{pretrained!r}: its text encoder gives {width}-wide tokens '
        f'({which}) but its UNet takes a {dim}-wide context '
        '(unet/config.json cross_attention_dim), so the empty-text context '
        'cannot be built: put the text encoder of the same model in the '
        'folder, or use the prompt-only context (--cfg-options '
        'model.backbone.context_layout=prompt)')


def _damaged(err: BaseException) -> bool:
    """diffusers' error for a weight file it cannot read."""
    return isinstance(err, OSError) and str(err).startswith(
        'Unable to load weights from checkpoint')


def _damaged_error(pretrained: str, sub: str,
                   err: BaseException) -> 'SDWeightsNotFoundError':
    """The one line of a weight file that cannot be read (truncated by an
    interrupted download or copy)."""
    first = first_line(err)[:160]
    return SDWeightsNotFoundError(
        f'Could not load "{sub}" of Stable Diffusion from {pretrained!r}: a '
        f'weight file in {sub}/ is damaged ({type(err).__name__}: {first}; '
        'truncated by an interrupted download or copy?): copy or download '
        'the folder again')


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
        except SafetensorError as e:
            raise _damaged_error(pretrained, sub, e) from e
        except (TypeError, KeyError) as e:
            # a config.json value of the wrong type or a missing key (e.g.
            # "norm_num_groups": "8"): the folder is damaged, not missing
            raise SDWeightsNotFoundError(
                f'Could not build "{sub}" of Stable Diffusion from '
                f'{pretrained!r}: {type(e).__name__}: '
                f'{first_line(e) or repr(e)}; its '
                f'{sub}/config.json holds a value of the wrong type or misses '
                'a key (edited by hand, or from another diffusers '
                'version?): restore the folder or download it again') from e
        except (OSError, ValueError) as e:
            if _damaged(e):
                raise _damaged_error(pretrained, sub, e) from e
            where = (f'folder {pretrained!r}' if is_local else
                     f'hub id {pretrained!r} (no local folder of that name '
                     f'exists either)')
            offline = (' HF_HUB_OFFLINE is set, so only the local cache was '
                       'searched.' if _is_offline() and not is_local else
                       ' Without internet access set HF_HUB_OFFLINE=1 and '
                       'use a local folder.')
            raise SDWeightsNotFoundError(
                f'Could not load "{sub}" of Stable Diffusion from {where}: '
                f'{type(e).__name__}: {first_line(e)}.{offline} ' +
                HOW_TO_GET.format(id=pretrained if not is_local else
                                  'runwayml/stable-diffusion-v1-5')) from e

    return load
