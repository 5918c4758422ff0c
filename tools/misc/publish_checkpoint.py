# Copyright (c) mmppm contributors. All rights reserved.
"""Keep only the weights and the run's metadata of a training checkpoint.

As OpenMMLab's ``publish_model.py``: drops the optimiser and scheduler
states and the message hub, so a CPT checkpoint ships as its trainable
tensors (P_bar, Phi, the base prompts) plus ``meta`` (iteration, config,
seed, the content digests of its training categories). Loaded with
``weights_only`` (nothing in it can run code); written atomically; never
over an existing file. ``--train-config`` records the digests of that
config's training categories in a checkpoint saved before checkpoints
recorded them (``CategoryHygieneHook``, docs/train_test.md).

Example:
    python tools/misc/publish_checkpoint.py \
        work_dirs/ppm_cpt_toy-sd_toy/best.pth data/toy_sd/cpt_toy.pth
"""
import argparse
import io
import os.path as osp

from mmppm.engine.cli import checkpoint_problem, require_file, run_tool
from mmppm.engine.hooks.category_hygiene_hook import META_KEY
from mmppm.utils.errors import UserError

KEPT = ('meta', 'state_dict')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='a checkpoint of tools/train.py')
    parser.add_argument('out', help='the published file (must not exist)')
    parser.add_argument(
        '--train-config',
        help='record the training categories of this config '
        '(its train_dataloader.dataset annotation file) in meta, where the '
        'checkpoint has no record')
    args = parser.parse_args(argv)
    require_file(args.checkpoint, 'checkpoint')
    digests = None
    if args.train_config:
        from mmengine.config import Config

        from mmppm.datasets.category_digest import (config_train_file,
                                                    file_category_digests)
        require_file(args.train_config, '--train-config')
        train_file = config_train_file(Config.fromfile(args.train_config))
        require_file(train_file, 'training annotation file')
        digests = file_category_digests(train_file)
    if osp.exists(args.out):
        raise UserError(f'{args.out} exists: remove it first or choose '
                        'another name (this tool never writes over a file)')
    problem = checkpoint_problem(args.checkpoint)
    if problem:
        raise UserError(f'{args.checkpoint} is not a loadable checkpoint '
                        f'({problem}): pass a .pth written by tools/train.py')
    import torch

    from mmppm.utils.atomic_io import atomic_write
    ckpt = torch.load(args.checkpoint, map_location='cpu', weights_only=True)
    if not isinstance(ckpt, dict) or 'state_dict' not in ckpt:
        raise UserError(f'{args.checkpoint} holds no state_dict: pass a '
                        'checkpoint written by tools/train.py')
    meta = ckpt.setdefault('meta', {})
    if digests is not None and META_KEY not in meta:
        meta[META_KEY] = digests
    buffer = io.BytesIO()
    torch.save({k: ckpt[k] for k in KEPT if k in ckpt}, buffer)
    atomic_write(args.out, buffer.getvalue())
    recorded = len(meta.get(META_KEY) or {})
    print(f'{args.out}: {", ".join(sorted(ckpt["state_dict"]))} '
          f'(iteration {meta.get("iter", "?")}'
          f'{f", {recorded} training categories" if recorded else ""})')


if __name__ == '__main__':
    run_tool(main)
