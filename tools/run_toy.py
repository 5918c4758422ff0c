"""The README's main job: PPM and PPM+CPT on the toy data with the toy SD.

Uses the toy diffusion model trained on the toy world (``data/toy_sd``,
shipped with the repository; ``tools/train_toy_sd.py`` rebuilds it, see
docs/toy_sd.md) and its CPT checkpoint (``data/toy_sd/cpt_toy.pth``).
Creates the toy MP-100-format data set (``data/toy_mp100``) if it is
absent, then runs the test entry of ``tools/test.py`` on the same toy test
episodes for PPM, PPM+CPT and the support-copy baseline (``--random-sd``
adds PPM with a tiny random-weight SD), and prints one table with the query
PCK and the fit PCK (the prompts predicting their own supports) of each.
Test runs are resumable: running the command again after an interruption
skips finished episodes.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

os.environ.setdefault('HF_HUB_OFFLINE', '1')
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_SD = 'data/toy_sd'
CPT_CHECKPOINT = 'data/toy_sd/cpt_toy.pth'

RUNS = (
    ('PPM (toy SD)', 'configs/ppm/ppm_toy-sd_1shot_toy.py', None),
    ('PPM+CPT (toy SD)', 'configs/cpt/ppm_cpt_toy-sd_toy.py', CPT_CHECKPOINT),
    ('support copy baseline', 'configs/baselines/support-copy_1shot_toy.py',
     None),
)
RANDOM_SD_RUN = ('PPM (tiny random SD)',
                 'configs/ppm/ppm_tiny-sd_1shot_toy.py', None)


def ensure_inputs(data_dir: str, random_sd_dir: str = None) -> None:
    """Generate the toy data (and a tiny random SD) if absent; check that
    the shipped toy SD is there."""
    from mmppm.datasets import generate_toy_mp100
    generate_toy_mp100(data_dir, seed=0)
    if not osp.isfile(osp.join(TOY_SD, 'model_index.json')):
        sys.exit(f'error: the toy SD is missing ({TOY_SD}/model_index.json): '
                 'restore it with git checkout -- data/toy_sd, or rebuild it '
                 'with python tools/train_toy_sd.py (docs/toy_sd.md)')
    if random_sd_dir and not osp.isfile(
            osp.join(random_sd_dir, 'model_index.json')):
        from mmppm.utils import save_random_sd
        print(f'Building a tiny random-weight SD in {random_sd_dir}',
              flush=True)
        save_random_sd(random_sd_dir, arch='tiny', seed=0)


def summary_cells(metrics: dict) -> str:
    """PCK@0.2, mPCK and fit PCK@0.2 (``-`` where the method fits no
    prompts) of one row, in percent."""
    def pick(suffix):
        return next((v for k, v in metrics.items()
                     if k.split('/')[-1] == suffix), None)

    cells = [pick('PCK@0.20'), pick('mPCK'), pick('fit_PCK@0.20')]
    return ' '.join(f'{"-":>8s}' if v is None else f'{100 * v:8.2f}'
                    for v in cells)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs/toy'))
    parser.add_argument('--random-sd', action='store_true',
                        help='also run PPM with a tiny random-weight SD')
    args = parser.parse_args(argv)
    os.chdir(REPO)  # configs use paths relative to the repository root
    from mmppm.engine.test_entry import main as test_main
    ensure_inputs('data/toy_mp100', 'data/tiny_sd' if args.random_sd else None)
    runs = list(RUNS) + ([RANDOM_SD_RUN] if args.random_sd else [])
    summary = []
    for name, config, checkpoint in runs:
        work_dir = osp.join(args.work_dir,
                            osp.splitext(osp.basename(config))[0])
        out = osp.join(work_dir, 'metrics.json')
        start = time.time()
        test_main([config] + ([checkpoint] if checkpoint else []) +
                  ['--work-dir', work_dir, '--out', out])
        with open(out) as f:
            metrics = json.load(f)
        metrics = metrics.get('metrics', metrics)
        summary.append((name, metrics, time.time() - start))
    print('\nToy test split, 1-shot (same 12 episodes, 36 queries and metric '
          'for all rows;')
    print('fit = the prompts predicting their own supports)')
    print(f'{"method":36s} {"PCK@0.2":>8s} {"mPCK":>8s} '
          f'{"fit@0.2":>8s} {"time":>8s}')
    for name, m, seconds in summary:
        print(f'{name:36s} {summary_cells(m)} {seconds:7.0f}s')


if __name__ == '__main__':
    from mmppm.utils.tool_helpers import run_tool
    run_tool(main)
