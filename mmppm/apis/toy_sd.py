# Copyright (c) mmppm contributors. All rights reserved.
"""Train the toy Stable Diffusion in two Runner stages (docs/toy_sd.md).

Stage 1 trains the VAE (``configs/toy_sd/toy-vae_*.py``), calibrates its
latent scaling factor, writes it with ``save_pretrained`` and a picture of
reconstructions; stage 2 trains the UNet on its latents
(``configs/toy_sd/toy-ldm_*.py``) and writes the whole diffusers folder.
Each stage resumes from its work dir; the same seed gives the same weights.
"""
import json
import os
import os.path as osp
import time
from typing import Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmppm.datasets import load_coco_json, merge_coco
from mmppm.models.toy_sd import export_toy_sd, latent_scaling_factor

ALL_IMAGES = 'toy_sd_all_images.json'
SPLIT_FILES = ('mp100_split1_train.json', 'mp100_split1_val.json',
               'mp100_split1_test.json')


def write_all_images(data_root: str, work_dir: str) -> str:
    """The union of the toy splits' annotations (images of every
    category; keypoints are never used), in ``work_dir``."""
    ann_dir = osp.join(data_root, 'annotations')
    merged = merge_coco(
        load_coco_json(osp.join(ann_dir, f)) for f in SPLIT_FILES)
    out = osp.join(work_dir, ALL_IMAGES)
    os.makedirs(work_dir, exist_ok=True)
    with open(out, 'w', encoding='utf-8') as f:
        json.dump(merged, f)
    return out


def stage_config(config: str,
                 work_dir: str,
                 data_root: str,
                 ann_file: str,
                 max_iters: Optional[int],
                 seed: int,
                 resume: bool,
                 stop_at: Optional[int] = None,
                 **model) -> Config:
    """Load a stage config and point it at the data and its work dir.

    ``max_iters`` stretches the schedule; ``stop_at`` ends training at that
    iteration of it (the weights of an early checkpoint of a longer run).
    """
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.train_dataloader.dataset.data_root = data_root
    cfg.train_dataloader.dataset.ann_file = osp.abspath(ann_file)
    cfg.randomness = dict(seed=seed)
    cfg.resume = resume
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
    """``num`` training crops as the model sees them (RGB in [-1, 1])."""
    images = []
    for data in runner.train_dataloader:
        batch = runner.model.data_preprocessor(data, False)
        images.append(batch['inputs'])
        if sum(len(x) for x in images) >= num:
            break
    return torch.cat(images)[:num]


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
    from mmppm.visualization.training_curve import find_scalars, load_scalars
    try:
        train, _ = load_scalars(find_scalars(work_dir))
    except FileNotFoundError:  # fewer iterations than the log interval
        return {}
    return {k: v for k, v in train[-1].items()
            if k.startswith('loss')} if train else {}


def train_vae(cfg: Config, grid_path: str, export_dir: str) -> dict:
    """Stage 1: train, calibrate the scaling factor, export, picture."""
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model
    model.eval()
    images = sample_batch(runner, 16)
    vae = model.vae
    vae.register_to_config(
        scaling_factor=latent_scaling_factor(vae, images))
    save_grid(images[:8], model.reconstruct(images[:8]), grid_path)
    info = dict(iters=cfg.train_cfg.max_iters,
                seconds=round(time.time() - start),
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
    info = dict(iters=cfg.train_cfg.max_iters,
                seconds=round(time.time() - start),
                final_losses=last_losses(cfg.work_dir))
    meta = dict(meta, unet=info)
    export_toy_sd(out_dir, model.vae, model.unet,
                  model.category_tokens.weight, meta=meta)
    print_log(f'toy SD stage 2 (UNet) done: {info}; written to {out_dir}',
              logger='current')
    return info
