"""The README's main job: PPM on the toy data with a tiny offline SD.

Creates what is missing -- the toy MP-100-format data set
(``data/toy_mp100``) and a tiny random-weight Stable Diffusion folder written
with ``save_pretrained`` (``data/tiny_sd``) -- then runs ``tools/test.py`` on
``configs/ppm/ppm_tiny-sd_1shot_toy.py`` and on the support-copy baseline with
the same episodes, and prints both PCK tables and a summary. Test runs are
resumable: running the command again after an interruption skips finished
episodes.
"""
import argparse
import json
import os
import os.path as osp
import time

os.environ.setdefault('HF_HUB_OFFLINE', '1')
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

RUNS = (
    ('PPM (tiny random SD)', 'configs/ppm/ppm_tiny-sd_1shot_toy.py'),
    ('support copy baseline', 'configs/baselines/support-copy_1shot_toy.py'),
)


def ensure_inputs(data_dir: str, sd_dir: str) -> None:
    """Generate the toy data and the tiny SD if they are absent."""
    from mmppm.datasets import generate_toy_mp100
    from mmppm.utils import save_random_sd
    generate_toy_mp100(data_dir, seed=0)
    if not osp.isfile(osp.join(sd_dir, 'model_index.json')):
        print(f'Building a tiny random-weight SD in {sd_dir}', flush=True)
        save_random_sd(sd_dir, arch='tiny', seed=0)


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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs/toy'))
    parser.add_argument('--fit-check', action='store_true',
                        help='also run the fit check (supports as queries)')
    args = parser.parse_args(argv)
    os.chdir(REPO)  # configs use paths relative to the repository root
    from mmppm.engine.test_entry import main as test_main
    ensure_inputs('data/toy_mp100', 'data/tiny_sd')
    runs = list(RUNS)
    if args.fit_check:
        runs.append(('PPM fit check (support as query)',
                     'configs/ppm/ppm_tiny-sd_1shot_toy_fit-check.py'))
    summary = []
    for name, config in runs:
        work_dir = osp.join(args.work_dir,
                            osp.splitext(osp.basename(config))[0])
        out = osp.join(work_dir, 'metrics.json')
        start = time.time()
        test_main([config, '--work-dir', work_dir, '--out', out])
        with open(out) as f:
            metrics = json.load(f)
        metrics = metrics.get('metrics', metrics)
        summary.append((name, metrics, time.time() - start))
    print('\nToy test split, 1-shot (same episodes and metric for all rows;')
    print('fit = the prompts predicting their own supports)')
    print(f'{"method":36s} {"PCK@0.2":>8s} {"mPCK":>8s} '
          f'{"fit@0.2":>8s} {"time":>8s}')
    for name, m, seconds in summary:
        print(f'{name:36s} {summary_cells(m)} {seconds:7.0f}s')


if __name__ == '__main__':
    main()
