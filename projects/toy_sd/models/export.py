# Copyright (c) mmppm contributors. All rights reserved.
"""Write the trained toy SD as a diffusers Stable Diffusion folder."""
import json
import logging
import os
import os.path as osp
import time

from mmengine.logging import print_log

from mmppm.utils.atomic_io import atomic_folder
from mmppm.utils.random_sd import SCHEDULER_CFG

#: The names :func:`export_toy_sd` writes in its folder; a folder holding
#: anything else (e.g. a ``cpt_toy.pth`` trained on that model) is moved
#: aside when replaced, never deleted.
EXPORTED_NAMES = ('model_index.json', 'vae', 'unet', 'text_encoder',
                  'tokenizer', 'scheduler')


def foreign_files(folder: str) -> list:
    """The names in ``folder`` that :func:`export_toy_sd` does not write."""
    if not osp.isdir(folder):
        return []
    return sorted(set(os.listdir(folder)) - set(EXPORTED_NAMES))


def export_toy_sd(out_dir: str,
                  vae,
                  unet=None,
                  text_encoder=None,
                  tokenizer=None,
                  meta: dict = None,
                  keep_previous: str = None) -> str:
    """``save_pretrained`` the parts into an SD folder (safetensors),
    all at once: the folder is built beside and renamed into place
    (:func:`mmppm.utils.atomic_io.atomic_folder`), so a failed export
    leaves the previous folder as it was.

    With a UNet, text encoder and tokenizer the folder is a complete
    ``StableDiffusionPipeline`` (no safety checker) that
    ``StableDiffusionPipeline.from_pretrained`` loads and runs; with the VAE
    alone (stage 1) it holds ``vae/`` and ``model_index.json``.

    Args:
        out_dir (str): Folder to write (created).
        vae: The ``AutoencoderKL`` (its ``scaling_factor`` already set).
        unet: The ``UNet2DConditionModel``; None writes the VAE only.
        text_encoder: The ``CLIPTextModel`` (with ``unet``).
        tokenizer: The ``CLIPTokenizer`` (with ``unet``).
        meta (dict, optional): Recorded in ``model_index.json`` under
            ``_mmppm_toy_sd`` (command, iterations, losses, time).
        keep_previous (str, optional): Where to move a folder it replaces
            that holds :func:`foreign_files`. Defaults to
            ``{out_dir}.previous-{time}`` for such a folder; one holding only
            what this function writes is removed.

    Returns:
        str: ``out_dir``.
    """
    if keep_previous is None and foreign_files(out_dir):
        keep_previous = f'{out_dir.rstrip(os.sep)}.previous-' + time.strftime(
            '%Y%m%d-%H%M%S')
    with atomic_folder(out_dir, keep_previous) as tmp:
        _write_pipeline(tmp, vae, unet, text_encoder, tokenizer, meta)
    if keep_previous and osp.isdir(keep_previous):
        print_log(
            f'The previous {out_dir} held files this export does not '
            f'write ({", ".join(foreign_files(keep_previous))}): it is '
            f'kept as {keep_previous}',
            logger='current',
            level=logging.WARNING)
    return out_dir


def _write_pipeline(out_dir: str, vae, unet, text_encoder, tokenizer,
                    meta) -> None:
    """The files of :func:`export_toy_sd` in a fresh folder."""
    from diffusers import DDPMScheduler, StableDiffusionPipeline
    index_file = osp.join(out_dir, 'model_index.json')
    if unet is None:
        vae.save_pretrained(osp.join(out_dir, 'vae'))
        index = dict(
            _class_name='StableDiffusionPipeline',
            vae=['diffusers', 'AutoencoderKL'])
    else:
        if text_encoder is None or tokenizer is None:
            raise ValueError('a UNet is exported with its text encoder and '
                             'tokenizer (a complete pipeline)')
        pipe = StableDiffusionPipeline(
            vae=vae,
            text_encoder=text_encoder,
            tokenizer=tokenizer,
            unet=unet,
            scheduler=DDPMScheduler(**SCHEDULER_CFG),
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False)
        pipe.save_pretrained(out_dir)
        with open(index_file, encoding='utf-8') as f:
            index = json.load(f)
    index['_mmppm_toy_sd'] = meta or {}
    with open(index_file, 'w', encoding='utf-8') as f:
        json.dump(index, f, indent=2)
