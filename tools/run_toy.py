"""The README's main job: PPM and PPM+CPT on the toy data with the toy SD.

Uses the toy text-to-image diffusion model trained on the toy world's
captioned scenes (``data/toy_sd``, shipped with the repository;
``projects/toy_sd/tools/train_toy_sd.py`` rebuilds it, see
projects/toy_sd/README.md) and its CPT checkpoint
(``data/toy_sd/cpt_toy.pth``). Creates the toy MP-100-format data set
(``data/toy_mp100``) if it is absent, then runs the test entry of
``tools/test.py`` on the same toy test episodes, 1-shot and 5-shot, for:
the word prompts (each keypoint's prompt is the caption word of its
blob, no fitting), PPM, PPM+CPT, training-free feature matching on the same
UNet, and the support-copy baseline; ``--full`` adds PPM with exact maps
(minutes), ``--random-sd`` PPM with a tiny random-weight SD. It prints one
progress line per run (each run's full console output goes to
``<work dir>/<run>/console.log``; a failing run prints that path and the
log's last lines and ends with exit status 1), then one table with the query
PCK and the fit PCK (the prompts predicting their own supports) of each.
Test runs are resumable: running the command again after an interruption
skips finished episodes.
"""
import argparse
import os
import os.path as osp
import sys

os.environ.setdefault('HF_HUB_OFFLINE', '1')
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_SD = 'data/toy_sd'


def toy_rows(full: bool = False, random_sd: bool = False):
    """The main table's rows (``MAIN_ROWS``), 1-shot configs (5-shot:
    +FIVE_SHOT); ``full`` adds exact maps, ``random_sd`` the tiny random
    SD."""
    from mmppm_analysis.toy_runs import MAIN_ROWS, Row
    keys = ['words', 'ppm'
            ] + (['ppm_exact'] if full else []) + ['cpt', 'fm', 'copy']
    rows = [MAIN_ROWS[k] for k in keys]
    if random_sd:
        rows.append(
            Row('PPM (tiny random SD)',
                'configs/ppm/ppm_random-sd_1shot_toy.py'))
    return rows


def ensure_inputs(data_dir: str, random_sd_dir: str = None) -> None:
    """Generate the toy data (and a tiny random SD) if absent; check that
    the shipped toy SD is there."""
    from mmppm.datasets import generate_toy_mp100
    generate_toy_mp100(data_dir, seed=0)
    if not osp.isfile(osp.join(TOY_SD, 'model_index.json')):
        sys.exit(f'error: the toy SD is missing ({TOY_SD}/model_index.json): '
                 'restore it with git checkout -- data/toy_sd, or rebuild it '
                 'with python projects/toy_sd/tools/train_toy_sd.py '
                 '(projects/toy_sd/README.md)')
    if random_sd_dir and not osp.isfile(
            osp.join(random_sd_dir, 'model_index.json')):
        from mmppm.utils.random_sd import save_random_sd
        print(
            f'Building a tiny random-weight SD in {random_sd_dir}', flush=True)
        save_random_sd(random_sd_dir, arch='tiny', seed=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs/toy'))
    parser.add_argument(
        '--full',
        action='store_true',
        help='also run PPM with exact maps (minutes)')
    parser.add_argument(
        '--random-sd',
        action='store_true',
        help='also run PPM with a tiny random-weight SD')
    parser.add_argument(
        '--shots', type=int, nargs='+', default=[1, 5], choices=[1, 5])
    args = parser.parse_args(argv)
    os.chdir(REPO)  # configs use paths relative to the repository root
    from mmppm_analysis.toy_runs import FIVE_SHOT, format_table, run_rows
    ensure_inputs('data/toy_mp100',
                  'data/random_sd' if args.random_sd else None)
    rows = [
        r._replace(
            name=f'{r.name}, {shots}-shot',
            options=tuple(r.options) + (FIVE_SHOT if shots == 5 else ()))
        for shots in args.shots for r in toy_rows(args.full, args.random_sd)
    ]
    results = run_rows(rows, args.work_dir)
    print('\nToy test split (same episodes, queries and metric for all rows '
          'of a shot count; %;')
    print('fit = the prompts predicting their own supports)')
    print(format_table(results))
    print('A smoke-size sample (3 test categories, 36 queries, one data '
          'seed): differences of a few points are not resolved here. The '
          'toy benchmark (20 test categories x 3 data seeds, each claim '
          'with its 95 % interval): docs/toy_benchmark.md.')
    return results


if __name__ == '__main__':
    from mmppm.engine.cli import run_tool
    run_tool(main)
