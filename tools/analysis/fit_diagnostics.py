"""Do the prompts fit their supports, and find keypoints on queries?

Usage:
    python tools/analysis/fit_diagnostics.py CONFIG [--oracle positional|part]
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
them, their norms and fit PCK (projects/toy_sd/README.md).

A thin CLI over :mod:`mmppm_analysis.fit_diagnostics` (the tool's
library). The fit PCK every test run reports is the fit diagnostics
(``test_cfg.fit_diagnostics``); ``test_cfg.predict_supports`` is another
thing: a model flag that predicts the supports instead of the queries.
"""
import argparse
import json
import os
import os.path as osp

from mmppm_analysis.fit_diagnostics import (ORACLES, check_ppm_config,
                                            fit_landscape, landscape_lines,
                                            run_fit_diagnostics, summary_lines)

from mmppm.engine.cli import load_tool_config, run_tool
from mmppm.engine.cli.arg_types import positive_int
from mmppm.engine.cli.args import CfgOptionsAction
from mmppm.utils.config_checks import check_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='PPM config file')
    parser.add_argument(
        '--oracle',
        choices=sorted(ORACLES),
        help='replace the diffusion model by an oracle')
    parser.add_argument(
        '--landscape',
        action='store_true',
        help='the fit objective between the fitted and the '
        'keypoint-name prompts')
    parser.add_argument(
        '--episodes',
        type=positive_int,
        help='episodes per category (default: the config)')
    parser.add_argument('--out', help='write the result as JSON here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        default={},
        help='override config values (k=v)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_tool_config(args.config, None, 'none')
    check_config(cfg, args.cfg_options)
    check_ppm_config(cfg)
    if args.landscape:
        result = fit_landscape(cfg, episodes=args.episodes)
        print('\n'.join(landscape_lines(result)))
    else:
        result = run_fit_diagnostics(
            cfg, oracle=args.oracle, episodes=args.episodes)
        print('\n'.join(summary_lines(result)))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(result, f, indent=1, default=str)
        print(f'written: {args.out}')
    return result


if __name__ == '__main__':
    run_tool(main)
