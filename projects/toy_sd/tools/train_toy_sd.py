"""Train the toy Stable Diffusion on captioned toy scenes
(projects/toy_sd/README.md).

Usage:
    python projects/toy_sd/tools/train_toy_sd.py [--work-dir work_dirs/toy_sd]
        [--out WORK_DIR/sd] [--overwrite-shipped] [--vae-iters N]
        [--unet-iters N]
        [--unet-stop-at N] [--seed 0] [--world-seed 0] [--resume]
        [--stage all|vae|unet] [--vae-dir DIR] [--cfg-options KEY=VALUE ...]

Both stages train on scenes of the toy world drawn on the fly
(``CaptionedToyScenes``: objects of fresh templates, never the toy MP-100
categories, with captions naming their blobs). Stage 1 trains a small
AutoencoderKL and saves a picture of its reconstructions
(``WORK_DIR/vae_reconstructions.png``: look at it before trusting stage 2);
stage 2 trains a caption-conditioned UNet and its CLIP text encoder on the
latents. The result is a complete diffusers ``StableDiffusionPipeline``
folder (``--out``, by default ``WORK_DIR/sd``) that
``model.backbone.pretrained`` loads like any SD. The shipped model
(``data/toy_sd``, with ``cpt_toy.pth`` trained on it) is replaced only with
``--out data/toy_sd --overwrite-shipped``; the folder it replaces is then
kept as ``data/toy_sd.previous-TIME`` (its ``cpt_toy.pth`` belongs to it).
Loss curves: ``WORK_DIR/{vae,unet}_loss.png``. ``--resume`` continues each
stage from its last checkpoint; the same seeds give the same weights.
A checkpoint that does not load (a run killed while saving) is skipped for
the one before it. ``--cfg-options`` overrides keys of the UNet stage's
config (e.g.
``model.ground_bce_weight=0``).
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

from mmppm.engine.cli.arg_types import positive_int

PROJECT = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO = osp.dirname(osp.dirname(PROJECT))
SHIPPED = osp.join(REPO, 'data', 'toy_sd')
VAE_CONFIG = osp.join(PROJECT, 'configs', 'toy-vae_kl-f4_scenes-128.py')
LDM_CONFIG = osp.join(PROJECT, 'configs',
                      'toy-ldm_unet-32-64_clip_scenes-128.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/toy_sd')
    parser.add_argument(
        '--out',
        help='the diffusers folder to write (default: '
        'WORK_DIR/sd)')
    parser.add_argument(
        '--overwrite-shipped',
        action='store_true',
        help='allow --out to be the shipped model '
        f'({osp.relpath(SHIPPED, REPO)})')
    parser.add_argument('--vae-iters', type=positive_int)
    parser.add_argument('--unet-iters', type=positive_int)
    parser.add_argument(
        '--unet-stop-at',
        type=positive_int,
        help='end stage 2 at this iteration of its '
        '--unet-iters schedule')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='training seed (weights, noise, batches)')
    parser.add_argument(
        '--world-seed',
        type=int,
        default=0,
        help='seed of the captioned scenes')
    parser.add_argument('--resume', action='store_true')
    parser.add_argument(
        '--stage', choices=['all', 'vae', 'unet'], default='all')
    parser.add_argument(
        '--vae-dir',
        help='stage-1 VAE folder for the UNet stage '
        '(default: WORK_DIR/vae_export, where stage 1 '
        'writes it)')
    parser.add_argument('--vae-config', default=VAE_CONFIG)
    parser.add_argument('--ldm-config', default=LDM_CONFIG)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides of the UNet stage config')
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = osp.join(args.work_dir, 'sd')
    return args


def is_shipped(out: str) -> bool:
    """Whether ``out`` is the shipped trained model's folder."""
    return osp.realpath(osp.expanduser(out)) == osp.realpath(SHIPPED)


def plot_stage(work_dir: str, out: str, keys, title: str) -> None:
    """The loss-curve PNG of one stage (none before the first log line)."""
    from mmppm_analysis.training_curve import (find_scalars, load_scalars,
                                               plot_curves)
    try:
        train, _ = load_scalars(find_scalars(work_dir))
    except FileNotFoundError:
        return
    plot_curves(train, [], out, keys, (), title)


def stage_configs(args, vae_work: str, unet_work: str, vae_dir: str) -> dict:
    """The configs of the stages to run, checked before stage 1 starts
    (``--cfg-options`` keys, component arguments and values: one line
    each: :func:`mmppm.utils.config_checks.check_config`).
    """
    from mmppm.utils.config_checks import check_config
    from projects.toy_sd.stages import stage_config
    cfgs = {}
    if args.stage in ('all', 'vae'):
        cfgs['vae'] = stage_config(args.vae_config, vae_work, args.world_seed,
                                   args.vae_iters, args.seed, args.resume)
    if args.stage in ('all', 'unet'):
        cfgs['unet'] = stage_config(
            args.ldm_config,
            unet_work,
            args.world_seed,
            args.unet_iters,
            args.seed,
            args.resume,
            stop_at=args.unet_stop_at,
            vae_pretrained=osp.abspath(vae_dir))
        check_config(cfgs['unet'], args.cfg_options)
    for cfg in cfgs.values():
        check_config(cfg)
    return cfgs


def main(argv=None):
    args = parse_args(argv)
    from projects.toy_sd.stages import train_ldm, train_vae
    if is_shipped(args.out) and not args.overwrite_shipped:
        sys.exit(f'error: --out {args.out} is the shipped trained model '
                 '(its cpt_toy.pth was trained on it): write elsewhere (the '
                 'default is WORK_DIR/sd), or add --overwrite-shipped to '
                 'replace it')
    index = osp.join(args.out, 'model_index.json')
    if osp.exists(args.out) and (not osp.isfile(index)
                                 or '_mmppm_toy_sd' not in open(index).read()):
        sys.exit(f'error: {args.out} exists and was not written by this '
                 'tool; choose another --out')
    vae_dir = args.vae_dir or osp.join(args.work_dir, 'vae_export')
    if args.stage == 'unet' and not osp.isfile(
            osp.join(vae_dir, 'vae', 'config.json')):
        sys.exit(f'error: no stage-1 VAE in {vae_dir} (vae/config.json): '
                 'train it first (--stage vae, same --work-dir) or pass '
                 '--vae-dir')
    vae_work = osp.join(args.work_dir, 'vae')
    unet_work = osp.join(args.work_dir, 'unet')
    cfgs = stage_configs(args, vae_work, unet_work, vae_dir)
    meta = {}
    if 'vae' in cfgs:
        cfg = cfgs['vae']
        meta['vae'] = train_vae(
            cfg, osp.join(args.work_dir, 'vae_reconstructions.png'), vae_dir)
        plot_stage(vae_work, osp.join(args.work_dir, 'vae_loss.png'),
                   ('loss', 'loss_rec', 'loss_kl'), 'toy SD: VAE')
    if 'unet' in cfgs:
        cfg = cfgs['unet']
        meta['command'] = (
            'python projects/toy_sd/tools/train_toy_sd.py ' +
            ' '.join(argv if argv is not None else sys.argv[1:]))
        train_ldm(cfg, vae_dir, args.out, meta)
        plot_stage(
            unet_work, osp.join(args.work_dir, 'unet_loss.png'),
            ('loss', 'loss_dm', 'loss_ground_ce', 'loss_ground_bce'),
            'toy SD: UNet + text encoder (noise prediction, '
            'grounding)')


if __name__ == '__main__':
    from mmppm.engine.cli import run_tool
    run_tool(main)
