"""Do the prompts fit their supports, and find keypoints on queries?

Usage:
    python tools/analysis/fit_check.py CONFIG [--oracle positional|part]
        [--landscape] [--episodes N] [--cfg-options k=v ...]
        [--out RESULT.json]

Runs the config's test episodes (``--episodes``: per category) with the fit
diagnostics on and prints the supports' fit PCK (the learned prompts
predicting their own supports), the queries' PCK, the final map loss over
that of an all-zero map, and the keypoints whose map peaks elsewhere than at
their ground truth. ``--oracle`` swaps in an oracle diffusion model whose
right answer is known (docs/oracles.md): ``positional`` tests the fit
(supports), ``part`` also the transfer to queries. See docs/method.md.
``--landscape`` compares, per episode, the prompts the fit finds with the
keypoint-name prompts (a known-good prompt where the names are words the
model knows, as on the toy SD): the fit objective along the line between
them, their norms and fit PCK (docs/toy_sd.md).
"""
import argparse
import json
import os
import os.path as osp

from mmengine.config import DictAction

from mmppm.apis.fit_check import (ORACLES, check_ppm_config, fit_landscape,
                                  run_fit_check)
from mmppm.engine.cli import load_tool_config, run_tool
from mmppm.utils.arg_types import positive_int
from mmppm.utils.config_checks import check_components, merge_cfg_options
from mmppm.utils.value_checks import check_values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='PPM config file')
    parser.add_argument('--oracle', choices=sorted(ORACLES),
                        help='replace the diffusion model by an oracle')
    parser.add_argument('--landscape', action='store_true',
                        help='the fit objective between the fitted and the '
                        'keypoint-name prompts')
    parser.add_argument('--episodes', type=positive_int,
                        help='episodes per category (default: the config)')
    parser.add_argument('--out', help='write the result as JSON here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, help='override config values (k=v)')
    return parser.parse_args(argv)


def summary_lines(result: dict) -> list:
    """The printed report."""
    fit, query = result['fit_pck'], result['query_pck']
    lines = [
        f"{'':10s}" + ''.join(f'{"PCK@" + t:>10s}' for t in fit),
        f"{'fit':10s}" + ''.join(f'{100 * v:10.2f}' for v in fit.values()),
        f"{'query':10s}" + ''.join(f'{100 * v:10.2f}'
                                   for v in query.values()),
        f"map loss vs all-zero map: {result['map_loss_vs_zero']:.3f} "
        '(1 = no better than zeros, 0 = perfect)',
        f"keypoints fitted (found on their own supports within PCK@0.2): "
        f"{100 * result['fitted_fraction']:.1f} % "
        f"({result['episodes']} episodes, {result['queries']} queries, "
        f"{result['seconds']:.0f} s)",
    ]
    missed = [r for r in result['keypoints'] if not r['fitted']]
    for r in missed[:10]:
        peak = (f"; map {r['peak_at_gt']:.3f} at GT vs "
                f"{r['best_elsewhere']:.3f} elsewhere"
                if 'peak_at_gt' in r else '')
        lines.append(
            f"  not fitted: episode {r['episode']} {r['category']} "
            f"kp {r['keypoint']}: error {r['error']:.2f} x object size"
            f"{peak}")
    if len(missed) > 10:
        lines.append(f'  ... and {len(missed) - 10} more (see --out)')
    return lines


def main(argv=None):
    args = parse_args(argv)
    cfg = load_tool_config(args.config, None, 'none')
    merge_cfg_options(cfg, args.cfg_options)
    check_ppm_config(cfg)
    check_components(cfg)
    check_values(cfg)
    if args.landscape:
        result = fit_landscape(cfg, episodes=args.episodes)
        print('fit objective from the fitted prompts (a=0) to the name '
              'prompts (a=1), mean over episodes:')
        print(' '.join(f'{a:.1f}:{v:.4g}' for a, v in zip(
            result['alphas'], result['mean_objective'])))
        print(f"prompt norm: fitted {result['fit_norm']:.2f}, names "
              f"{result['name_norm']:.2f}; fit PCK@0.2: fitted "
              f"{100 * result['fit_pck']:.1f} %, names "
              f"{100 * result['name_pck']:.1f} % ({result['episodes']} "
              'episodes)')
    else:
        result = run_fit_check(cfg, oracle=args.oracle,
                               episodes=args.episodes)
        print('\n'.join(summary_lines(result)))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(result, f, indent=1, default=str)
        print(f'written: {args.out}')
    return result


if __name__ == '__main__':
    run_tool(main)
