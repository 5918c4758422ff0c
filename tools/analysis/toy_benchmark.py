# Copyright (c) mmppm contributors. All rights reserved.
"""The toy benchmark: main-table rows over toy data seeds of MP-100's shape,
each claim with its 95 % interval (docs/toy_benchmark.md).

Usage:
    python tools/analysis/toy_benchmark.py [--seeds 0 1 2] [--shots 1 5]
        [--rows words ppm ppm_exact cpt fm copy] [--exact-seeds 0]
        [--exact-shots 1] [--exact-episodes 2]
        [--episodes-1shot 4] [--episodes-5shot 2] [--queries 15]
        [--jobs 2] [--work-dir work_dirs/toy_benchmark]

For each data seed it writes the toy data (``generate_toy_mp100`` with
``--preset mp100``: 70 / 10 / 20 categories) to ``--data-dir/seed<S>`` if
absent, runs every row through ``tools/test.py`` on that seed's test split
(same episodes for every row of a shot count), then prints and writes
``benchmark.md`` / ``benchmark.json`` in ``--work-dir``: per row the mean
PCK@0.2 over seeds with its bootstrap interval, per-seed values, fit PCK
and cost; per claim the paired difference, its interval and verdict.
Resumable: a rerun replays the finished episodes of every run.
"""
import argparse
import os
import os.path as osp

os.environ.setdefault('HF_HUB_OFFLINE', '1')
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: Path options and their defaults, relative to the repository.
PATHS = dict(
    sd='data/toy_sd',
    cpt_checkpoint='data/toy_sd/cpt_toy.pth',
    data_dir='data/toy_mp100_bench',
    work_dir='work_dirs/toy_benchmark')


def resolve_paths(args) -> None:
    """A path given on the command line is relative to the current folder;
    a default is the repository's. The tool then works from the repository
    (its configs name repository paths), so each path is made relative to
    it where it lies inside it, absolute elsewhere: the same folder gives
    the same command line -- and so the same prediction-cache key, which
    hashes the config's path strings -- from wherever the tool is
    started."""
    for name, default in PATHS.items():
        given = getattr(args, name)
        path = osp.abspath(given) if given else osp.join(REPO, default)
        inside = osp.commonpath([path, REPO]) == REPO
        setattr(args, name, osp.relpath(path, REPO) if inside else path)


def parse_args(argv=None):
    from mmppm_analysis.toy_benchmark import ROWS

    from mmppm.datasets.toy_world.toy_mp100 import PRESETS
    from mmppm.engine.cli.arg_types import non_negative_int, positive_int
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--seeds',
        type=non_negative_int,
        nargs='+',
        default=[0, 1, 2],
        help='toy data seeds (default: 0 1 2)')
    parser.add_argument(
        '--shots', type=int, nargs='+', default=[1, 5], choices=[1, 5])
    parser.add_argument(
        '--rows', nargs='+', default=list(ROWS), choices=list(ROWS))
    parser.add_argument(
        '--exact-seeds',
        type=non_negative_int,
        nargs='*',
        default=[0],
        help='seeds on which the exact-maps row runs (it '
        'costs ~12x the cached row; default: 0)')
    parser.add_argument(
        '--exact-shots', type=int, nargs='*', default=[1], choices=[1, 5])
    parser.add_argument(
        '--exact-episodes',
        type=positive_int,
        default=2,
        help='episodes per test category of the exact-maps '
        'row (a cached-maps run on the same episodes is '
        'added for the paired difference; default: 2)')
    parser.add_argument(
        '--episodes-1shot',
        type=positive_int,
        default=4,
        help='episodes per test category, 1-shot')
    parser.add_argument(
        '--episodes-5shot',
        type=positive_int,
        default=2,
        help='episodes per test category, 5-shot')
    parser.add_argument(
        '--queries',
        type=positive_int,
        default=15,
        help='queries per episode (MP-100: 15)')
    parser.add_argument(
        '--jobs', type=positive_int, default=1, help='test runs at a time')
    parser.add_argument(
        '--bootstrap',
        type=positive_int,
        default=10000,
        help='bootstrap replicates')
    parser.add_argument(
        '--preset',
        default='mp100',
        choices=sorted(PRESETS),
        help="the toy data's shape (generate_toy_mp100 "
        "presets: 'mp100' 70 / 10 / 20 categories, 'toy' "
        "make toy's 8 / 2 / 3)")
    for name, default in PATHS.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            help=f'relative to the current folder (default: {default} in '
            'the repository)')
    parser.add_argument(
        '--report-only',
        action='store_true',
        help='only summarise the finished runs')
    return parser.parse_args(argv)


def raise_missing(work_dir: str) -> None:
    from mmppm.utils.errors import MissingFileError
    raise MissingFileError(
        f'--work-dir {work_dir} is not a folder of benchmark runs: give the '
        'work dir of the runs to report, or run without --report-only')


def main(argv=None):
    args = parse_args(argv)
    resolve_paths(args)
    from mmppm.engine.cli import writable_dir
    if args.report_only:
        if not osp.isdir(args.work_dir):
            raise_missing(args.work_dir)
    else:
        writable_dir(args.work_dir, '--work-dir')
        writable_dir(args.data_dir, '--data-dir')
    os.chdir(REPO)  # configs use paths relative to the repository root
    from mmppm_analysis import toy_benchmark as tb

    from mmppm.datasets import generate_toy_mp100
    from mmppm.datasets.toy_world.toy_mp100 import PRESETS
    runs = tb.plan_runs(args.seeds, args.shots, args.rows, {
        1: args.episodes_1shot,
        5: args.episodes_5shot
    }, args.queries, args.exact_seeds, args.exact_shots, args.exact_episodes)
    if not args.report_only:
        tb.check_inputs(args.sd, args.cpt_checkpoint, args.rows)
        for seed in args.seeds:
            generate_toy_mp100(
                tb.data_root(args.data_dir, seed),
                seed=seed,
                preset=args.preset)
        print(
            f'{len(runs)} test runs ({args.jobs} at a time); logs in '
            f'{args.work_dir}/seed*/*shot/*/console.log',
            flush=True)
        try:
            tb.run_all(
                runs,
                args.work_dir,
                args.data_dir,
                args.sd,
                args.cpt_checkpoint,
                args.jobs,
                log=lambda m: print(m, flush=True))
        except KeyboardInterrupt:
            from mmppm.utils.errors import UserError
            raise UserError('interrupted: no further run was started; the '
                            'finished episodes are cached (rerun the same '
                            'command to continue)') from None
    tb.check_unchanged(runs, args.work_dir, args.data_dir, args.sd,
                       args.cpt_checkpoint)
    world = PRESETS[args.preset].get('world', 'blobs')
    summary = tb.summarise(runs, args.work_dir, args.bootstrap,
                           args.data_dir if world == 'lookalike' else None)
    summary['args'] = vars(args)
    js, md = tb.write_report(summary, args.work_dir)
    print(tb.format_markdown(summary))
    print(f'\nwritten: {md}, {js}')
    return summary


if __name__ == '__main__':
    from mmppm.engine.cli import run_tool
    run_tool(main)
