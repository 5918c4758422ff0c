# Copyright (c) mmppm contributors. All rights reserved.
"""Model and report helpers shared by the analysis tools
(``tools/analysis/benchmark_episode.py``, ``project_split_cost.py``)."""
import argparse
import json
import os
import os.path as osp

from mmppm.utils.random_sd import ARCHS

AMP_DTYPES = dict(fp32=None, bf16='bfloat16', fp16='float16')


def add_sd_args(parser: argparse.ArgumentParser, default_arch: str) -> None:
    """Where the SD model comes from (read by :func:`resolve_pretrained`)."""
    src = parser.add_mutually_exclusive_group()
    src.add_argument(
        '--arch',
        default=default_arch,
        choices=sorted(ARCHS),
        help='random-weight SD architecture (built with save_random_sd)')
    src.add_argument(
        '--pretrained', help='local diffusers SD folder or hub id instead')
    parser.add_argument(
        '--cache-dir',
        default=osp.join('work_dirs', 'random_sd'),
        help='where random SD folders are kept (<cache-dir>/<arch>-seed<s>; '
        'relative to the working directory)')
    parser.add_argument(
        '--sd-seed', type=int, default=0, help='seed of the random SD weights')
    parser.add_argument(
        '--rebuild-sd',
        action='store_true',
        help='rebuild the random SD folder even if present')


def resolve_pretrained(args) -> str:
    if args.pretrained:
        return args.pretrained
    from mmppm.utils.random_sd import save_random_sd
    folder = osp.join(args.cache_dir, f'{args.arch}-seed{args.sd_seed}')
    if args.rebuild_sd or not osp.isfile(osp.join(folder, 'model_index.json')):
        print(
            f'Building a random-weight {args.arch} SD in {folder}', flush=True)
        save_random_sd(folder, arch=args.arch, seed=args.sd_seed)
    return folder


def build_model(pretrained: str,
                input_size: int,
                steps: int = 5,
                lr: float = 2e-3,
                seed: int = 0,
                dtype: str = 'fp32',
                compile_unet: bool = False,
                device: str = 'cpu',
                components: dict = None):
    """A ``PPMEstimator`` on ``pretrained`` at a square SD input size
    (``components``: parts built in memory instead, see
    ``SDCrossAttnBackbone``)."""
    from mmengine.registry import DefaultScope
    from mmpose.registry import MODELS

    import mmppm  # noqa: F401  (registers the modules)
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(
            dict(
                type='PPMEstimator',
                backbone=dict(
                    type='SDCrossAttnBackbone',
                    pretrained=pretrained,
                    input_size=(input_size, input_size),
                    compile_cfg=dict(dynamic=True) if compile_unet else None,
                    components=components),
                fitter=dict(type='PromptFitter', steps=steps, lr=lr),
                test_cfg=dict(seed=seed, amp_dtype=AMP_DTYPES[dtype])))
    if components is None:  # (parts built on the meta device stay there)
        model = model.to(device)
    return model.eval()


def write_json(report: dict, path: str) -> None:
    """Write a report, creating the folder, and say where."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(report, f, indent=2)
    print(f'wrote {path}')
