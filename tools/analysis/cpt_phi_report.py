# Copyright (c) mmppm contributors. All rights reserved.
"""What CPT's Phi (paper Eq. 5) does to the prompt space, per checkpoint.

Usage:
    python tools/analysis/cpt_phi_report.py CONFIG CHECKPOINT [CHECKPOINT ...]
        [--num-prompts 64] [--prompt-std 0.1] [--seed 0] [--words W ...]
        [--out REPORT.json]

Builds the model of a PPM+CPT config, loads each checkpoint (the word
``untrained`` instead of a path: the encoder as training starts, built
after seeding with the config's ``randomness.seed``, as the Runner does),
and at ``--num-prompts`` prompts drawn from N(0, prompt_std^2) (fixed
``--seed``: the same prompts for every checkpoint) reports the Jacobian d
context / d P of the prompt encoder (:mod:`mmppm_analysis.phi_jacobian`):
its effective rank (out of c; 1 = every prompt direction collapsed onto
one), largest singular value and smallest / largest ratio, and the norms of
the prompts and of their contexts. Where the SD folder has a text encoder,
the norm of the tokens of ``--words`` is shown too: the scale of the
contexts the UNet was trained on. One line per checkpoint; ``--out`` writes
everything as JSON. A thin CLI over :mod:`mmppm_analysis.phi_jacobian`.
"""
import argparse
import copy
import os

os.environ.setdefault('HF_HUB_OFFLINE', '1')
from mmppm.engine.cli.arg_types import positive_float  # noqa: E402
from mmppm.engine.cli.arg_types import positive_int

UNTRAINED = 'untrained'
#: Default ``--words``: keypoint names, then four toy-world caption words
#: (the toy SD, data/toy_sd, knows only the latter as words).
DEFAULT_WORDS = ('nose', 'left eye', 'tail', 'wing', 'brightredring',
                 'darkazuredisc', 'brightgreensquare', 'darkvioletdiamond')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='PPM+CPT config file')
    parser.add_argument(
        'checkpoints',
        nargs='+',
        metavar='CHECKPOINT',
        help=f'CPT checkpoint(s); {UNTRAINED!r}: the freshly initialised '
        'encoder')
    parser.add_argument(
        '--num-prompts',
        type=positive_int,
        default=64,
        help='random prompts the Jacobian is taken at')
    parser.add_argument(
        '--prompt-std',
        type=positive_float,
        default=0.1,
        help='std of the random prompts (the fit\'s '
        'prompt_init_std)')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the random prompts')
    parser.add_argument(
        '--words',
        nargs='+',
        default=list(DEFAULT_WORDS),
        help='words whose text-encoder token norms are '
        'shown')
    parser.add_argument('--out', help='write the report as JSON here')
    return parser.parse_args(argv)


def check_checkpoints(paths) -> None:
    """One-line errors for a checkpoint that is missing or not a
    checkpoint, before the model is built."""
    import os.path as osp

    from mmppm.engine.cli import checkpoint_problem
    from mmppm.utils.errors import ToolError
    for path in paths:
        if path == UNTRAINED or '://' in path:
            continue
        if not osp.isfile(osp.expanduser(path)):
            raise ToolError(
                f'checkpoint not found: {path}: pass a CPT checkpoint file '
                '(e.g. work_dirs/<config name>/best.pth) or the word '
                f'{UNTRAINED} for the freshly initialised encoder')
        problem = checkpoint_problem(osp.expanduser(path))
        if problem:
            raise ToolError(f'not a checkpoint: {path} ({problem}): pass '
                            'a .pth file saved by tools/train.py')


def build_cpt_model(config: str):
    """The config's model, built after seeding with its
    ``randomness.seed`` (0 if none) as the Runner builds it, on the CPU, in
    eval mode.

    Raises:
        ToolError: The config file is missing or has no prompt encoder.
    """
    from mmengine.config import Config
    from mmengine.runner import set_random_seed

    from mmppm.apis.inference import init_cape_model
    from mmppm.utils.errors import ToolError
    if not os.path.isfile(os.path.expanduser(config)):
        raise ToolError(f'config file not found: {config}: pass a PPM+CPT '
                        'config file (e.g. configs/cpt/ppm_cpt_toy-sd_toy.py)')
    cfg = Config.fromfile(os.path.expanduser(config))
    if not cfg.get('model', {}).get('prompt_encoder'):
        raise ToolError(
            f'{config} has no model.prompt_encoder: Phi exists only under '
            'CPT; pass a PPM+CPT config (e.g. '
            'configs/cpt/ppm_cpt_toy-sd_toy.py)')
    seed = (cfg.get('randomness') or {}).get('seed')
    set_random_seed(0 if seed is None else seed)
    return init_cape_model(cfg)


def main(argv=None):
    args = parse_args(argv)
    check_checkpoints(args.checkpoints)
    import torch
    from mmppm_analysis import write_json
    from mmppm_analysis.phi_jacobian import (phi_report, phi_report_line,
                                             text_token_norms)

    from mmppm.apis.inference import _load_checkpoint
    model = build_cpt_model(args.config)
    fresh = copy.deepcopy(model.prompt_encoder)
    c = model.backbone.cross_attention_dim
    g = torch.Generator().manual_seed(args.seed)
    prompts = torch.randn(args.num_prompts, c, generator=g) * args.prompt_std
    norms, why = text_token_norms(model, args.words)
    print(f'{args.num_prompts} prompts ~ N(0, {args.prompt_std:g}^2) in '
          f'c = {c} channels (seed {args.seed}); ' +
          (f'text-token norm {float(norms.mean()):.3g} over '
           f'{len(args.words)} words'
           if norms is not None else f'no token norms: {why}'))
    results = []
    for name in args.checkpoints:
        if name == UNTRAINED:
            encoder = fresh
        else:
            _load_checkpoint(model, name)
            encoder = model.prompt_encoder
        report = phi_report(encoder.eval(), prompts, norms)
        print(phi_report_line(name, report))
        results.append(dict(checkpoint=name, **report))
    result = dict(
        config=args.config,
        num_prompts=args.num_prompts,
        prompt_std=args.prompt_std,
        seed=args.seed,
        words=list(args.words) if norms is not None else None,
        token_norms=norms.tolist() if norms is not None else None,
        checkpoints=results)
    if args.out:
        write_json(result, args.out)
    return result


if __name__ == '__main__':
    from mmppm.engine.cli import run_tool
    run_tool(main)
