# Copyright (c) mmppm contributors. All rights reserved.
"""Train the toy Stable Diffusion in two Runner stages
(projects/toy_sd/README.md).

Both stages train on the captioned pretraining scenes of the toy world
(``CaptionedToyScenes``). Stage 1 trains the VAE
(``projects/toy_sd/configs/toy-vae_*.py``), calibrates its latent scaling
factor, writes it with ``save_pretrained`` and a picture of reconstructions;
stage 2 trains the UNet and the text encoder on its latents
(``projects/toy_sd/configs/toy-ldm_*.py``) and writes the whole diffusers
pipeline folder. Each stage resumes from its work dir; the same seeds give
the same weights.
"""
import time
from typing import Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmppm.utils.latent_scaling import unit_std_scaling_factor
from .models import export_toy_sd


def stage_config(config: str,
                 work_dir: str,
                 world_seed: int,
                 max_iters: Optional[int],
                 seed: int,
                 resume: bool,
                 stop_at: Optional[int] = None,
                 **model) -> Config:
    """Load a stage config and point it at its work dir and world seed.

    ``max_iters`` stretches the schedule; ``stop_at`` ends training at that
    iteration of it (the weights of an early checkpoint of a longer run).
    Checkpoints are saved atomically (:class:`AtomicCheckpointHook`);
    ``resume`` continues from the newest checkpoint that loads, as
    ``tools/train.py --resume`` does
    (:func:`mmppm.engine.resume.resume_from_work_dir`).
    """
    from mmppm.engine.hooks.atomic_checkpoint_hook import \
        use_atomic_checkpoints
    from mmppm.engine.resume import resume_from_work_dir
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.train_dataloader.dataset.seed = int(world_seed)
    cfg.randomness = dict(seed=seed)
    use_atomic_checkpoints(cfg)
    if resume:
        resume_from_work_dir(cfg)
    else:
        cfg.resume = False
    if max_iters is not None:  # the schedule stretched to the new length
        ratio = max_iters / cfg.train_cfg.max_iters
        cfg.train_cfg.max_iters = max_iters
        for sched in cfg.param_scheduler:
            sched['begin'] = int(round(sched['begin'] * ratio))
            sched['end'] = max(sched['begin'] + 1,
                               int(round(sched['end'] * ratio)))
    if stop_at is not None:
        cfg.train_cfg.max_iters = min(stop_at, cfg.train_cfg.max_iters)
    cfg.model.update(model)
    return cfg


def sample_batch(runner: Runner, num: int) -> torch.Tensor:
    """The first ``num`` training crops as the model sees them (RGB in
    [-1, 1]), read from the dataset (the same whatever the training did)."""
    from mmengine.dataset import pseudo_collate
    dataset = runner.train_dataloader.dataset
    data = pseudo_collate([dataset[i] for i in range(num)])
    return runner.model.data_preprocessor(data, False)['inputs']


def save_grid(images: torch.Tensor, recons: torch.Tensor, path: str) -> None:
    """A PNG with inputs (top row) over reconstructions (bottom row)."""
    import cv2

    def row(x):
        x = ((x.clamp(-1, 1) + 1) * 127.5).byte().permute(0, 2, 3, 1)
        return np.concatenate(list(x.cpu().numpy()), axis=1)

    grid = np.concatenate([row(images), row(recons)], axis=0)
    cv2.imwrite(path, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))


def last_losses(work_dir: str) -> dict:
    """The last logged training losses of a stage (``scalars.json``)."""
    from mmppm_analysis.training_curve import find_scalars, load_scalars
    try:
        train, _ = load_scalars(find_scalars(work_dir))
    except FileNotFoundError:  # fewer iterations than the log interval
        return {}
    return {
        k: v
        for k, v in train[-1].items() if k.startswith('loss')
    } if train else {}


def train_vae(cfg: Config, grid_path: str, export_dir: str) -> dict:
    """Stage 1: train, calibrate the scaling factor, export, picture."""
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    return export_vae(runner, grid_path, export_dir, time.time() - start)


def export_vae(runner: Runner, grid_path: str, export_dir: str,
               seconds: float) -> dict:
    """Stage 1 after training: calibrate the latent scaling factor, write
    the reconstruction picture and the VAE folder."""
    cfg = runner.cfg
    model = runner.model
    model.eval()
    images = sample_batch(runner, 16)
    vae = model.vae
    vae.register_to_config(scaling_factor=unit_std_scaling_factor(vae, images))
    save_grid(images[:8], model.reconstruct(images[:8]), grid_path)
    info = dict(
        iters=cfg.train_cfg.max_iters,
        seconds=round(seconds),
        final_losses=last_losses(cfg.work_dir),
        scaling_factor=vae.config.scaling_factor)
    export_toy_sd(export_dir, vae, meta=dict(vae=info))
    print_log(f'toy SD stage 1 (VAE) done: {info}', logger='current')
    return info


def train_ldm(cfg: Config, vae_dir: str, out_dir: str, meta: dict) -> dict:
    """Stage 2: train the UNet; write the SD folder."""
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model
    info = dict(
        iters=cfg.train_cfg.max_iters,
        seconds=round(time.time() - start),
        final_losses=last_losses(cfg.work_dir))
    meta = dict(meta, unet=info)
    export_toy_sd(
        out_dir,
        model.vae,
        model.unet,
        model.text_encoder,
        model.tokenizer,
        meta=meta)
    print_log(
        f'toy SD stage 2 (UNet) done: {info}; written to {out_dir}',
        logger='current')
    return info


def export_checkpoint(cfg: Config,
                      checkpoint: str,
                      out_dir: str,
                      meta: Optional[dict] = None) -> str:
    """Write the SD folder of a stage-2 training checkpoint (e.g. an
    intermediate ``iter_N.pth`` of a run), as :func:`train_ldm` writes the
    final one. ``cfg`` is the stage config (:func:`stage_config`)."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    model = MODELS.build(cfg.model)
    ckpt = load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    iters = int(ckpt.get('meta', {}).get('iter', -1))
    export_toy_sd(
        out_dir,
        model.vae,
        model.unet,
        model.text_encoder,
        model.tokenizer,
        meta=dict(meta or {}, unet=dict(iters=iters, checkpoint=checkpoint)))
    return out_dir
