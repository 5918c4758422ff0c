"""Does a text-to-image SD folder localise its words?
(projects/toy_sd/README.md)

Usage:
    python projects/toy_sd/tools/word_localisation.py SD_FOLDER [--scenes 64]
        [--timestep 10] [--modes caption word cached] [--radius 0.1]
        [--world-seed 0] [--world blobs|lookalike] [--out RESULT.json]

On held-out captioned toy scenes, the fraction of caption words whose
cross-attention map (paper Eq. 2-3, at the timestep) peaks within
``radius`` x the crop side of the word's own blob (``*_own``) or of any blob
(``*_any``), read from the whole caption (``caption``), from the word alone
as a one-token context (``word``, PPM's layout) or from cached queries
(``cached``); and the chance rate of an own-blob hit. Needs the folder's
``text_encoder/`` and ``tokenizer/`` (the toy SD has them).
``--world lookalike``: look-alike instances (mirror twins, colour morphs,
unmarked joints; never in training) captioned in their drawn colouring; a
twin word's own blobs are both twins, and the twins' words are also
reported alone.
"""
import argparse
import json
import os

os.environ.setdefault('HF_HUB_OFFLINE', '1')
from mmppm.engine.cli.arg_types import non_negative_int  # noqa: E402
from mmppm.engine.cli.arg_types import positive_int


def parse_args(argv=None):
    from projects.toy_sd.word_localisation import MODES
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('pretrained', help='diffusers SD folder')
    parser.add_argument('--scenes', type=positive_int, default=64)
    parser.add_argument('--timestep', type=non_negative_int, default=10)
    parser.add_argument(
        '--modes', nargs='+', default=list(MODES), choices=MODES)
    parser.add_argument('--radius', type=float, default=0.1)
    parser.add_argument('--world-seed', type=int, default=0)
    parser.add_argument(
        '--world', default='blobs', choices=['blobs', 'lookalike'])
    parser.add_argument('--out', help='write the result as JSON here')
    args = parser.parse_args(argv)
    if not 0 < args.radius <= 1:
        parser.error(f'--radius must be in (0, 1], got {args.radius}')
    return args


def main(argv=None):
    args = parse_args(argv)
    from projects.toy_sd.word_localisation import word_localisation
    result = word_localisation(
        args.pretrained,
        args.scenes,
        args.world_seed,
        args.timestep,
        modes=args.modes,
        radius=args.radius,
        world=args.world)
    print(f"{result['num_words']} words in {result['num_scenes']} held-out "
          f"scenes, t = {args.timestep}, hit radius {args.radius} x crop; "
          f"chance (own blob) {100 * result['chance_own']:.1f} %")
    for mode in args.modes:
        print(f"{mode:8s} own blob {100 * result[mode + '_own']:5.1f} %   "
              f"some blob {100 * result[mode + '_any']:5.1f} %" +
              (f"   twins' words, either twin "
               f"{100 * result[mode + '_own_twin']:5.1f} %" if mode +
               '_own_twin' in result else ''))
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(dict(result, args=vars(args)), f, indent=2)


if __name__ == '__main__':
    from mmppm.engine.cli import run_tool
    run_tool(main)
