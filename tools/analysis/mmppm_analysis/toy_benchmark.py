# Copyright (c) mmppm contributors. All rights reserved.
"""The toy benchmark (docs/toy_benchmark.md): the main-table rows over
several toy data seeds of MP-100's shape, with intervals and paired claims.

Every run is one ``tools/test.py`` process on one seed's toy test split
(``generate_toy_mp100(preset='mp100')``: 20 test categories); its
``EpisodicPCK`` writes the per-query scores (``outfile_prefix``), from which
:mod:`.benchmark_stats` computes the intervals. Runs are resumable: the
test loop replays the episodes a previous run finished when (and only
when) its cache key still matches (docs/train_test.md).
"""
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from mmppm.engine.cli.checks import checkpoint_problem
from mmppm.engine.runner.fingerprint import (file_fingerprint,
                                             folder_fingerprint)
from mmppm.utils.atomic_io import atomic_write, atomic_write_json
from mmppm.utils.errors import MissingFileError, UserError
from . import benchmark_stats as bs
from .morph_split import same_morph_flags, split_pck
from .toy_runs import FIVE_SHOT, MAIN_ROWS, Row

CPT_PAPER = 'configs/cpt/ppm_cpt_toy-sd_mp100-bench_paper.py'
#: The CPT study's rows (docs/cpt.md), beside ``make toy``'s (whose ``cpt``
#: row is the shipped variant): the paper's Phi untrained, and CPT trained
#: on the 70 base categories of the MP-100-shaped toy (data seed 0) by the
#: paper's recipe and by the episodic one; the checkpoints ship in
#: data/toy_sd.
CPT_ROWS: Dict[str, Row] = {
    'phi0':
    Row('PPM through an untrained Phi (paper form)', CPT_PAPER, None,
        ('model.test_cfg.allow_untrained_prompt_encoder=True', )),
    'cpt_paper':
    Row('PPM+CPT, paper recipe (one lr)', CPT_PAPER,
        'data/toy_sd/cpt_toy_paper.pth'),
    'cpt_episodic':
    Row('PPM+CPT, episodic recipe (residual Phi)',
        'configs/cpt/ppm_cpt_toy-sd_mp100-bench_episodic.py',
        'data/toy_sd/cpt_toy_episodic.pth'),
}
#: Beyond the paper (docs/cpt.md, "PPM+CPT against feature matching"): the
#: shipped CPT's query maps fused with feature similarity (``model.fusion``),
#: then with the support's layout (the recommended configs); their
#: checkpoint is ``--cpt-checkpoint``, as the ``cpt`` row's. ``fm_layout``:
#: feature matching with the same layout prior.
FUSION_ROWS: Dict[str, Row] = {
    'cpt_fm':
    Row('PPM+CPT x feature similarity (beyond the paper; cached maps)',
        'configs/cpt/ppm_cpt_toy-sd_feature-fusion_1shot.py',
        'data/toy_sd/cpt_toy.pth'),
    'cpt_fm_layout':
    Row('PPM+CPT x feature similarity x support layout (recommended)',
        'configs/cpt/ppm_cpt_toy-sd_recommended_1shot.py',
        'data/toy_sd/cpt_toy.pth'),
    'fm_layout':
    Row('feature matching x support layout (beyond DIFT)',
        'configs/baselines/feature-matching_toy-sd_1shot_toy_layout-prior.py'),
}
#: Rows tested with ``--cpt-checkpoint`` (the world's CPT).
CPT_CHECKPOINT_ROWS = ('cpt', 'cpt_fm', 'cpt_fm_layout')
WARM = 'configs/ppm/ppm_toy-sd_1shot_toy_warm-shared.py'
#: The speed variants (docs/benchmark.md), each run like the exact-maps row
#: (on ``--exact-seeds`` x ``--exact-shots`` with ``--exact-episodes``) so
#: that ``variant - exact`` is paired on the same episodes.
SPEED_ROWS: Dict[str, Row] = {
    'ppm_shared':
    Row('PPM (shared-context maps)', MAIN_ROWS['ppm'].config, None,
        ('model.fitter.map_mode.type=SharedContextMaps', )),
    'ppm_shared30':
    Row('PPM (shared-context maps, 30 steps)', MAIN_ROWS['ppm'].config, None,
        ('model.fitter.map_mode.type=SharedContextMaps',
         'model.fitter.steps=30')),
    'ppm_shared_2shots':
    Row('PPM (shared-context maps, 2 shots per step)', MAIN_ROWS['ppm'].config,
        None, ('model.fitter.map_mode.type=SharedContextMaps',
               'model.fitter.shots_per_step=2')),
    'ppm_shared_3shots':
    Row('PPM (shared-context maps, 3 shots per step)', MAIN_ROWS['ppm'].config,
        None, ('model.fitter.map_mode.type=SharedContextMaps',
               'model.fitter.shots_per_step=3')),
    'ppm_shared30_2shots':
    Row('PPM (shared-context maps, 30 steps, 2 shots per step)',
        MAIN_ROWS['ppm'].config, None,
        ('model.fitter.map_mode.type=SharedContextMaps',
         'model.fitter.steps=30', 'model.fitter.shots_per_step=2')),
    'ppm_warm10':
    Row('PPM (cached, then 10 shared-context steps)', WARM),
    'ppm_warm20':
    Row('PPM (cached, then 20 shared-context steps)', WARM, None,
        ('model.fitter.steps=20', )),
}
#: Rows that run on the exact-maps row's seeds, shots and episodes.
EXACT_EPISODE_ROWS = ('ppm_exact', *SPEED_ROWS)
#: The benchmark's rows: ``make toy``'s (1-shot configs; 5-shot adds
#: ``shots=5``), the CPT study's and the speed variants.
ROWS: Dict[str, Row] = {**MAIN_ROWS, **CPT_ROWS, **FUSION_ROWS, **SPEED_ROWS}
NO_SD = ('copy', )  # rows without a diffusion model to point at
#: The claims, each ``A - B > 0``: (name, (row A, shots A), (row B, shots
#: B)); ``shots`` None: at each shot count.
CLAIMS = (
    ('PPM - support copy', ('ppm', None), ('copy', None)),
    ('PPM - word prompts', ('ppm', None), ('words', None)),
    ('PPM+CPT - PPM', ('cpt', None), ('ppm', None)),
    ('untrained Phi - PPM', ('phi0', None), ('ppm', None)),
    ('PPM+CPT (paper recipe) - PPM', ('cpt_paper', None), ('ppm', None)),
    ('PPM+CPT (episodic) - PPM', ('cpt_episodic', None), ('ppm', None)),
    ('PPM+CPT - PPM+CPT (paper recipe)', ('cpt', None), ('cpt_paper', None)),
    ('PPM - feature matching', ('ppm', None), ('fm', None)),
    ('PPM+CPT - feature matching', ('cpt', None), ('fm', None)),
    ('PPM+CPT x features - feature matching', ('cpt_fm', None), ('fm', None)),
    ('PPM+CPT x features - PPM+CPT', ('cpt_fm', None), ('cpt', None)),
    ('recommended - feature matching', ('cpt_fm_layout', None), ('fm', None)),
    ('recommended - feature matching x layout', ('cpt_fm_layout', None),
     ('fm_layout', None)),
    ('recommended - PPM+CPT x features', ('cpt_fm_layout', None), ('cpt_fm',
                                                                   None)),
    ('feature matching x layout - feature matching', ('fm_layout', None),
     ('fm', None)),
    ('feature matching - support copy', ('fm', None), ('copy', None)),
    ('exact - cached maps', ('ppm_exact', None), ('ppm', None)),
    ('shared-context - exact maps', ('ppm_shared', None), ('ppm_exact', None)),
    ('shared-context, 30 steps - exact maps', ('ppm_shared30', None),
     ('ppm_exact', None)),
    ('shared-context, 2 shots per step - exact maps',
     ('ppm_shared_2shots', None), ('ppm_exact', None)),
    ('shared-context, 3 shots per step - exact maps',
     ('ppm_shared_3shots', None), ('ppm_exact', None)),
    ('shared-context, 30 steps, 2 shots per step - exact maps',
     ('ppm_shared30_2shots', None), ('ppm_exact', None)),
    ('cached + 10 shared-context steps - exact maps', ('ppm_warm10', None),
     ('ppm_exact', None)),
    ('cached + 20 shared-context steps - exact maps', ('ppm_warm20', None),
     ('ppm_exact', None)),
    ('PPM 5-shot - 1-shot', ('ppm', 5), ('ppm', 1)),
)
THRESHOLD = 0.2


class Run(NamedTuple):
    """One ``tools/test.py`` process of the benchmark."""
    seed: int
    shots: int
    key: str  # a key of ROWS
    episodes: int
    queries: int


def plan_runs(seeds: Sequence[int],
              shots: Sequence[int],
              rows: Sequence[str],
              episodes: Dict[int, int],
              queries: int,
              exact_seeds: Sequence[int],
              exact_shots: Sequence[int],
              exact_episodes: Optional[int] = None) -> List[Run]:
    """The runs: cheapest first within a seed, seeds in order, the exact
    maps (the costliest) last.

    The exact-maps row and the speed variants (:data:`EXACT_EPISODE_ROWS`)
    run on ``exact_seeds`` x ``exact_shots`` only, with ``exact_episodes``
    episodes per category (default: the shot count's ``episodes``); where
    that differs, a cached-maps run with the same episodes is added, so that
    ``exact - cached`` is paired (and every variant with exact maps).
    """
    for key in rows:
        if key not in ROWS:
            raise UserError(f'unknown benchmark row {key!r}; choose from '
                            f'{list(ROWS)}')
    runs = [
        Run(seed, k, key, episodes[k], queries) for k in shots
        for seed in seeds for key in rows if key not in EXACT_EPISODE_ROWS
    ]
    # the variants first, the exact maps (the costliest) last
    costly = sorted((key for key in EXACT_EPISODE_ROWS if key in rows),
                    key=lambda key: key == 'ppm_exact')
    if costly:
        for k in shots:
            for seed in seeds:
                if seed not in exact_seeds or k not in exact_shots:
                    continue
                num = exact_episodes or episodes[k]
                pair = Run(seed, k, 'ppm', num, queries)
                if 'ppm' in rows and pair not in runs:
                    runs.append(pair)
                runs += [Run(seed, k, key, num, queries) for key in costly]
    return runs


def data_root(data_dir: str, seed: int) -> str:
    return osp.join(data_dir, f'seed{seed}')


def run_dir(work_dir: str, run: Run) -> str:
    return osp.join(work_dir, f'seed{run.seed}', f'{run.shots}shot',
                    f'{run.key}_e{run.episodes}_q{run.queries}')


def run_command(run: Run, work_dir: str, data_dir: str, sd: str,
                cpt_checkpoint: str) -> List[str]:
    """The ``tools/test.py`` command line of one run."""
    row = ROWS[run.key]
    out = run_dir(work_dir, run)
    options = list(row.options) + [
        f'test_dataloader.dataset.data_root={data_root(data_dir, run.seed)}/',
        f'test_dataloader.dataset.num_episodes={run.episodes}',
        f'test_dataloader.dataset.num_queries={run.queries}',
        f'test_evaluator.outfile_prefix={osp.join(out, "results")}',
    ]
    if run.shots == 5:
        options += list(FIVE_SHOT)
    if run.key not in NO_SD:
        options.append(f'model.backbone.pretrained={sd}')
    checkpoint = [checkpoint_of(run.key, cpt_checkpoint)
                  ] if row.checkpoint else []
    return [sys.executable, 'tools/test.py', row.config] + checkpoint + [
        '--work-dir', out, '--out',
        osp.join(out, 'metrics.json'), '--cfg-options'
    ] + options


def run_inputs(run: Run, data_dir: str, sd: str,
               cpt_checkpoint: str) -> Dict[str, Optional[str]]:
    """Content digests of what a run's rows are made of: its config file,
    checkpoint, SD folder and test annotation file (None where the row has
    none). A report refuses a run whose inputs changed since it ran."""
    row = ROWS[run.key]
    checkpoint = checkpoint_of(run.key, cpt_checkpoint) \
        if row.checkpoint else None
    ann = osp.join(
        data_root(data_dir, run.seed), 'annotations', 'mp100_split1_test.json')
    return dict(
        config=file_fingerprint(row.config),
        checkpoint=file_fingerprint(checkpoint) if checkpoint else None,
        sd=None if run.key in NO_SD else folder_fingerprint(sd),
        annotations=file_fingerprint(ann) if osp.isfile(ann) else None)


def execute(run: Run,
            cmd: List[str],
            work_dir: str,
            threads: Optional[int] = None,
            inputs: Optional[dict] = None) -> Tuple[float, str]:
    """Run one command, its console output to ``console.log`` in the run's
    folder; return its wall time and what its test loop says it computed
    and replayed (:func:`replay_summary`). The first complete run's time is
    kept in ``timing.json`` (a rerun that replays its episodes is not a cost),
    the digests of its ``inputs`` (:func:`run_inputs`, taken before it
    started) in ``inputs.json``. ``threads``: the process's OpenMP threads
    (unless OMP_NUM_THREADS is set), so that parallel runs do not
    oversubscribe the cores."""
    out = run_dir(work_dir, run)
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    if threads:
        env.setdefault('OMP_NUM_THREADS', str(threads))
    start = time.time()
    with open(osp.join(out, 'console.log'), 'w', encoding='utf-8') as log:
        proc = subprocess.run(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    seconds = time.time() - start
    with open(osp.join(out, 'console.log'), encoding='utf-8') as f:
        console = f.read()
    if proc.returncode != 0:
        last = [line for line in console.splitlines() if line.strip()]
        raise RuntimeError(
            f'benchmark run seed {run.seed}, {run.shots}-shot, {run.key} '
            f'failed (exit {proc.returncode}): '
            f'{last[-1] if last else "no output"} '
            f'(log: {osp.join(out, "console.log")})')
    timing = osp.join(out, 'timing.json')
    if not osp.isfile(timing):
        atomic_write_json(timing, dict(seconds=seconds))
    if inputs is not None:
        atomic_write_json(osp.join(out, 'inputs.json'), inputs)
    return seconds, replay_summary(console)


def replay_summary(console: str) -> str:
    """``'<n> computed, <m> replayed'`` from a test run's console output
    (``ResumableTestLoop``'s closing line), or ``''``."""
    found = re.findall(
        r'ResumableTestLoop: (\d+) batches computed, (\d+) '
        r'replayed', console)
    return f'{found[-1][0]} computed, {found[-1][1]} replayed' if found \
        else ''


def run_all(runs: Sequence[Run],
            work_dir: str,
            data_dir: str,
            sd: str,
            cpt_checkpoint: str,
            jobs: int = 1,
            log=print) -> None:
    """Run every run (``jobs`` at a time) with a progress line and ETA.
    The first failure (or Ctrl-C) starts no further run: the queued ones
    are cancelled, the ones in progress end (a Ctrl-C reaches them too), and
    the error is raised."""
    start = time.time()
    done = 0
    threads = max(1, (os.cpu_count() or 1) // jobs)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {}
        for r in runs:
            command = run_command(r, work_dir, data_dir, sd, cpt_checkpoint)
            futures[pool.submit(execute, r, command, work_dir, threads,
                                run_inputs(r, data_dir, sd,
                                           cpt_checkpoint))] = r
        try:
            finished = as_completed(futures)
            for fut in finished:
                r = futures[fut]
                seconds, replayed = fut.result()
                done += 1
                elapsed = time.time() - start
                eta = elapsed / done * (len(runs) - done)
                log(f'[{done}/{len(runs)}] seed {r.seed}, {r.shots}-shot, '
                    f'{ROWS[r.key].name}: {seconds:.0f} s ({replayed}); '
                    f'elapsed {elapsed / 60:.1f} min, ETA {eta / 60:.1f} min')
        except BaseException:  # a failed run or Ctrl-C: start no other
            for fut in futures:
                fut.cancel()
            raise


def threshold_index(data: dict) -> int:
    """Index of PCK@0.2 in a per-query file's ``thrs`` (
    :func:`read_queries` checked it is there)."""
    return [
        i for i, t in enumerate(data['thrs']) if abs(t - THRESHOLD) < 1e-9
    ][0]


def read_queries(path: str) -> dict:
    """A run's per-query file, or one line naming it where it is damaged
    (cut short, not the metric's format)."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        if not (isinstance(data, dict) and isinstance(data['queries'], list)
                and any(abs(t - THRESHOLD) < 1e-9 for t in data['thrs'])):
            raise ValueError('no queries at PCK@0.2')
    except (ValueError, KeyError, TypeError) as e:
        raise UserError(
            f'{path} is damaged ({type(e).__name__}: {str(e)[:80]}): delete '
            'it and run the benchmark without --report-only (the finished '
            'episodes replay from the cache)') from None
    return data


def load_scores(run: Run,
                work_dir: str) -> Tuple[bs.SeedScores, Optional[float]]:
    """A finished run's per-episode PCK@0.2 and its mean fit PCK@0.2."""
    path = osp.join(run_dir(work_dir, run), 'results.queries.json')
    if not osp.isfile(path):
        raise MissingFileError(
            f'no results for seed {run.seed}, {run.shots}-shot, {run.key} '
            f'({path}): run the benchmark without --report-only (or with '
            'the same --work-dir and options as the run that made them)')
    data = read_queries(path)
    thr = threshold_index(data)
    fit = bs.episode_scores(data['queries'], thr, 'fit_pck')
    return (bs.episode_scores(data['queries'],
                              thr), bs.point_estimate([fit]) if fit else None)


def load_twin_counts(run: Run, work_dir: str) -> dict:
    """A finished run's twin and kind counts, summed over its queries
    (``EpisodicPCK``'s per-query ``swaps`` and ``kinds``): ``swaps``
    ``[swapped, counted, correct]`` and ``kinds`` ``{kind: [correct,
    counted]}``; empty where its categories have neither (the first
    world)."""
    path = osp.join(run_dir(work_dir, run), 'results.queries.json')
    queries = read_queries(path)['queries']
    out: dict = {}
    for q in queries:
        if len(q.get('swaps', ())) == 3:
            out['swaps'] = [
                a + b for a, b in zip(out.get('swaps', [0, 0, 0]), q['swaps'])
            ]
        for kind, (correct, counted) in q.get('kinds', {}).items():
            total = out.setdefault('kinds', {}).setdefault(kind, [0, 0])
            total[0] += correct
            total[1] += counted
    return out


def twin_summary(counts: Sequence[dict]) -> dict:
    """Pooled over runs (seeds): ``swap_rate`` (swapped / counted twins),
    ``either_twin`` ((correct + swapped) / counted: found one of the pair)
    and ``kinds`` (PCK per kind), each only where counted."""
    out: dict = {}
    swaps = [c['swaps'] for c in counts if 'swaps' in c]
    if swaps and sum(s[1] for s in swaps):
        swapped, counted, correct = (
            sum(s[i] for s in swaps) for i in range(3))
        out.update(
            swap_rate=swapped / counted,
            either_twin=(swapped + correct) / counted)
    kinds: Dict[str, List[int]] = {}
    for c in counts:
        for kind, (correct, counted) in c.get('kinds', {}).items():
            total = kinds.setdefault(kind, [0, 0])
            total[0] += correct
            total[1] += counted
    if kinds:
        out['kinds'] = {
            kind: correct / counted
            for kind, (correct, counted) in sorted(kinds.items()) if counted
        }
    for name in ('same', 'other'):
        total = [c['morphs'][name] for c in counts if 'morphs' in c]
        if total and sum(n for _, n in total):
            out[f'{name}_morph'] = sum(v for v, _ in total) / sum(
                n for _, n in total)
    return out


def check_unchanged(runs: Sequence[Run], work_dir: str, data_dir: str, sd: str,
                    cpt_checkpoint: str) -> None:
    """Refuse to report a run whose inputs (:func:`run_inputs`) are not
    the ones it ran with, or that has no record of them."""
    for r in runs:
        path = osp.join(run_dir(work_dir, r), 'inputs.json')
        label = f'seed {r.seed}, {r.shots}-shot, {r.key}'
        fix = ('run the benchmark without --report-only (finished episodes '
               'replay from the cache only where nothing changed)')
        try:
            with open(path, encoding='utf-8') as f:
                recorded = json.load(f)
        except (OSError, ValueError):
            raise UserError(f'{label}: no record of the inputs it ran with '
                            f'({path}): {fix}') from None
        current = run_inputs(r, data_dir, sd, cpt_checkpoint)
        changed = [k for k in current if recorded.get(k) != current[k]]
        if changed:
            raise UserError(
                f'{label} was measured with another '
                f'{" and ".join(changed)} than the one given now: {fix}')


def _cell(mean: float, low: float, high: float) -> str:
    return f'{100 * mean:.1f} [{100 * low:.1f}, {100 * high:.1f}]'


def _pick(a: Dict[int, Dict[int, bs.SeedScores]],
          b: Dict[int, Dict[int, bs.SeedScores]]) -> Tuple[int, int]:
    """The episode counts of a claim's two sides: the pair with the most
    seeds in common; among those, equal counts (the same episodes) first,
    then the largest."""
    return max(((ea, eb) for ea in a for eb in b),
               key=lambda p:
               (len(set(a[p[0]]) & set(b[p[1]])), p[0] == p[1], p[0] + p[1]))


def morph_counts(run: Run, work_dir: str, data_dir: str) -> Dict[str, list]:
    """A finished run's query PCK@0.2 sums and counts where a support shares
    the query's colouring and where none does (the look-alike world,
    :mod:`.morph_split`)."""
    ann = osp.join(
        data_root(data_dir, run.seed), 'annotations', 'mp100_split1_test.json')
    flags = same_morph_flags(ann, run.shots, run.queries, run.episodes)
    data = read_queries(
        osp.join(run_dir(work_dir, run), 'results.queries.json'))
    thr = threshold_index(data)
    split = split_pck(data['queries'], flags, thr)
    return {
        name: [
            0. if not split[f'{name}_queries'] else split[name] *
            split[f'{name}_queries'], split[f'{name}_queries']
        ]
        for name in ('same', 'other')
    }


def summarise(runs: Sequence[Run],
              work_dir: str,
              num_samples: int = 10000,
              data_dir: Optional[str] = None) -> dict:
    """The benchmark's table: rows with intervals, per-seed values, fit
    PCK and cost; the claims' paired differences with verdicts; the
    per-category means of each difference. With ``data_dir`` of the
    look-alike world, each row's PCK also where a support shares the
    query's colouring (``same_morph``) and where none does
    (``other_morph``)."""
    # (key, shots) -> episodes per category -> seed -> scores
    scores: Dict[Tuple[str, int], Dict[int, Dict[int, bs.SeedScores]]] = {}
    # (key, shots, episodes per category) -> seed -> value
    fits: Dict[Tuple[str, int, int], Dict[int, float]] = {}
    seconds: Dict[Tuple[str, int, int], Dict[int, float]] = {}
    twins: Dict[Tuple[str, int, int], List[dict]] = {}
    for r in runs:
        s, fit = load_scores(r, work_dir)
        counts = load_twin_counts(r, work_dir)
        if data_dir is not None:
            counts['morphs'] = morph_counts(r, work_dir, data_dir)
        twins.setdefault((r.key, r.shots, r.episodes), []).append(counts)
        scores.setdefault((r.key, r.shots), {}).setdefault(r.episodes,
                                                           {})[r.seed] = s
        group = (r.key, r.shots, r.episodes)
        if fit is not None:
            fits.setdefault(group, {})[r.seed] = fit
        timing = osp.join(run_dir(work_dir, r), 'timing.json')
        if osp.isfile(timing):
            with open(timing, encoding='utf-8') as f:
                seconds.setdefault(group, {})[r.seed] = json.load(f)['seconds']
    table = []
    for (key, shots), by_count in scores.items():
        for count, by_seed in by_count.items():
            seeds = sorted(by_seed)
            mean, low, high = bs.mean_interval([by_seed[s] for s in seeds],
                                               num_samples=num_samples)
            table.append(
                dict(
                    key=key,
                    name=ROWS[key].name,
                    shots=shots,
                    seeds=seeds,
                    episodes=len(by_seed[seeds[0]]),
                    mean=mean,
                    low=low,
                    high=high,
                    per_seed={
                        s: bs.point_estimate([by_seed[s]])
                        for s in seeds
                    },
                    fit=fits.get((key, shots, count), {}),
                    seconds=seconds.get((key, shots, count), {}),
                    **twin_summary(twins.get((key, shots, count), []))))
    claims = []
    for name, (a, a_shots), (b, b_shots) in CLAIMS:
        for shots in ((None, ) if a_shots else (1, 5)):
            ka, kb = (a, a_shots or shots), (b, b_shots or shots)
            if ka not in scores or kb not in scores:
                continue
            ea, eb = _pick(scores[ka], scores[kb])
            sa, sb = scores[ka][ea], scores[kb][eb]
            diffs = {
                s: bs.paired_scores(sa[s], sb[s])
                for s in sorted(set(sa) & set(sb))
            }
            diffs = {s: d for s, d in diffs.items() if d}
            if not diffs:
                continue
            mean, low, high = bs.mean_interval(
                list(diffs.values()), num_samples=num_samples)
            cats = bs.per_category_means(diffs)
            claims.append(
                dict(
                    name=name if shots is None else f'{name}, {shots}-shot',
                    mean=mean,
                    low=low,
                    high=high,
                    verdict=bs.verdict(low, high),
                    seeds=sorted(diffs),
                    episodes=sum(len(d) for d in diffs.values()),
                    per_category=dict(
                        sorted(cats.items(), key=lambda kv: kv[1]))))
    return dict(
        threshold=THRESHOLD,
        num_samples=num_samples,
        rows=table,
        claims=claims)


def format_markdown(summary: dict) -> str:
    """The summary as the markdown tables of docs/toy_benchmark.md."""
    out = [
        '| row | shots | PCK@0.2 % [95 % CI] | per seed | fit PCK@0.2 % '
        '| episodes / seed | s per seed |', '| --- | ---: | ---: | --- | '
        '--- | ---: | ---: |'
    ]

    def order(r):
        return r['shots'], list(ROWS).index(r['key']), -r['episodes']

    for r in sorted(summary['rows'], key=order):
        per_seed = ', '.join(f'{100 * v:.1f}' for v in r['per_seed'].values())
        fit = ', '.join(f'{100 * v:.1f}' for v in r['fit'].values()) or '-'
        secs = list(r['seconds'].values())
        out.append(f"| {r['name']} | {r['shots']} | "
                   f"{_cell(r['mean'], r['low'], r['high'])} | "
                   f"{per_seed} (seeds {', '.join(map(str, r['seeds']))}) | "
                   f"{fit} | {r['episodes']} | "
                   f"{sum(secs) / len(secs) if secs else float('nan'):.0f} |")
    out += _twin_table(sorted(summary['rows'], key=order))
    out += [
        '', '| claim (A - B > 0) | difference, PCK@0.2 points [95 % CI] '
        '| verdict | seeds | paired episodes | lowest / highest '
        'categories |', '| --- | ---: | --- | --- | ---: | --- |'
    ]
    for c in summary['claims']:
        cats = list(c['per_category'].items())
        ends = ', '.join(f'{k} {100 * v:+.1f}' for k, v in cats[:2]) + \
            ' / ' + ', '.join(f'{k} {100 * v:+.1f}' for k, v in cats[-2:])
        out.append(f"| {c['name']} | {_cell(c['mean'], c['low'], c['high'])}"
                   f" | {c['verdict']} | {', '.join(map(str, c['seeds']))} | "
                   f"{c['episodes']} | {ends} |")
    return '\n'.join(out)


def _twin_table(rows: Sequence[dict]) -> List[str]:
    """Swap rate, either-twin rate and PCK per kind of keypoint (pooled over
    seeds), where the runs' categories have twins or kinds."""
    rows = [r for r in rows if 'swap_rate' in r or 'kinds' in r]
    if not rows:
        return []
    kinds = sorted({k for r in rows for k in r.get('kinds', {})})
    morphs = any('same_morph' in r for r in rows)
    out = [
        '', '| row | shots | twins swapped % | either twin found % | ' +
        ' | '.join(f'PCK@0.2 {k} %' for k in kinds) + ' |' +
        (' PCK@0.2, a support of the same colouring % | PCK@0.2, none % |'
         if morphs else ''),
        '| --- | ---: | ---: | ---: |' + ' ---: |' * (len(kinds) + 2 * morphs)
    ]

    def pct(value):
        return '-' if value is None else f'{100 * value:.1f}'

    for r in rows:
        cells = [pct(r.get('swap_rate')), pct(r.get('either_twin'))]
        cells += [pct(r.get('kinds', {}).get(k)) for k in kinds]
        if morphs:
            cells += [pct(r.get('same_morph')), pct(r.get('other_morph'))]
        out.append(f"| {r['name']} | {r['shots']} | " + ' | '.join(cells) +
                   ' |')
    return out


def checkpoint_of(key: str, cpt_checkpoint: str) -> Optional[str]:
    """A row's checkpoint: ``--cpt-checkpoint`` for the main table's
    ``cpt`` row, the row's own for the CPT study's."""
    return (cpt_checkpoint
            if key in CPT_CHECKPOINT_ROWS else ROWS[key].checkpoint)


def check_inputs(sd: str, cpt_checkpoint: str, rows: Sequence[str]) -> None:
    """The toy SD and the CPT checkpoints exist (before any run starts)."""
    if any(k not in NO_SD
           for k in rows) and not osp.isfile(osp.join(sd, 'model_index.json')):
        raise MissingFileError(
            f'no diffusion model at {sd} ({sd}/model_index.json missing): '
            'pass --sd with a diffusers folder (the shipped one is '
            'data/toy_sd; git checkout -- data/toy_sd restores it)')
    if set(CPT_CHECKPOINT_ROWS) & set(rows) and not osp.isfile(cpt_checkpoint):
        raise MissingFileError(
            f'no CPT checkpoint at {cpt_checkpoint}: pass --cpt-checkpoint '
            'or leave the cpt row out (--rows)')
    for key in rows:
        path = ROWS[key].checkpoint
        if key not in CPT_CHECKPOINT_ROWS and path and not osp.isfile(path):
            raise MissingFileError(
                f'no checkpoint at {path} (row {key}): git checkout -- '
                f'{path} restores it, or leave the row out (--rows)')
        path = checkpoint_of(key, cpt_checkpoint) if path else None
        problem = checkpoint_problem(path) if path else None
        if problem:
            raise UserError(f'{path} (row {key}) is not a loadable '
                            f'checkpoint ({problem}): pass another, or leave '
                            'the row out (--rows)')


def write_report(summary: dict, work_dir: str) -> Tuple[str, str]:
    """``benchmark.json`` and ``benchmark.md`` in ``work_dir``."""
    js, md = osp.join(work_dir,
                      'benchmark.json'), osp.join(work_dir, 'benchmark.md')
    atomic_write_json(js, summary)
    atomic_write(md, format_markdown(summary) + '\n')
    return js, md
