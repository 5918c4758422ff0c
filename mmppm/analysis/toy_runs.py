# Copyright (c) mmppm contributors. All rights reserved.
"""Rows of a results table, each one ``tools/test.py`` run (``make toy``,
``tools/analysis/toy_sd_experiments.py``)."""
import json
import os.path as osp
import time
from typing import Dict, List, NamedTuple, Optional, Sequence

FIVE_SHOT = ('test_dataloader.dataset.shots=5', )
THRESHOLDS = ('PCK@0.05', 'PCK@0.10', 'PCK@0.20', 'mPCK', 'fit_PCK@0.20')


class Row(NamedTuple):
    """One test run: a config, an optional checkpoint, overrides."""
    name: str
    config: str
    checkpoint: Optional[str] = None
    options: Sequence[str] = ()


PPM = 'configs/ppm/ppm_toy-sd_1shot_toy.py'
#: The main table's rows on the toy SD (1-shot configs; 5-shot adds
#: :data:`FIVE_SHOT`), by key: ``make toy`` (``tools/run_toy.py``) and the
#: toy benchmark (:mod:`.toy_benchmark`) run the same ones.
MAIN_ROWS: Dict[str, Row] = {
    'words': Row('word prompts (no fit)',
                 'configs/ppm/ppm_toy-sd_1shot_toy_name-prompts.py'),
    'ppm': Row('PPM (cached maps)', PPM),
    'ppm_exact': Row('PPM (exact maps)', PPM, None,
                     ('model.fitter.map_mode.type=ExactMaps', )),
    'cpt': Row('PPM+CPT (P^k at the fit lr; cached maps)',
               'configs/cpt/ppm_cpt_toy-sd_toy.py',
               'data/toy_sd/cpt_toy.pth'),
    'fm': Row('feature matching (DIFT-style)',
              'configs/baselines/feature-matching_toy-sd_1shot_toy.py'),
    'copy': Row('support copy', 'configs/baselines/support-copy_1shot_toy.py'),
}


def pick(metrics: dict, key: str) -> Optional[float]:
    """A metric by its last name (``'PCK@0.20'`` of ``'toy/PCK@0.20'``)."""
    return next((v for k, v in metrics.items() if k.split('/')[-1] == key),
                None)


def row_tag(row: Row) -> str:
    """A work-dir name for the row: config stem + override values."""
    stem = osp.splitext(osp.basename(row.config))[0]
    values = ['_'.join(o.split('=', 1)[-1].split(',')[:2]) for o in
              row.options]
    tag = '_'.join([stem] + values)
    return ''.join(c if c.isalnum() or c in '-_.' else '-' for c in tag)


def run_rows(rows: Sequence[Row], work_dir: str) -> List[Dict]:
    """Run each row through the test entry of ``tools/test.py`` (resumable:
    a rerun replays finished episodes); return ``name``, ``metrics`` and
    ``seconds`` per row."""
    from mmppm.engine.test_entry import main as test_main
    results = []
    for row in rows:
        out_dir = osp.join(work_dir, row_tag(row))
        out = osp.join(out_dir, 'metrics.json')
        start = time.time()
        test_main([row.config] + ([row.checkpoint] if row.checkpoint else [])
                  + ['--work-dir', out_dir, '--out', out] +
                  (['--cfg-options', *row.options] if row.options else []))
        with open(out) as f:
            metrics = json.load(f)
        results.append(dict(name=row.name,
                            metrics=metrics.get('metrics', metrics),
                            seconds=time.time() - start))
    return results


def format_table(results: Sequence[Dict],
                 keys: Sequence[str] = THRESHOLDS,
                 markdown: bool = False) -> str:
    """The rows' metrics in percent (``-`` where a row has none, e.g. no fit
    PCK for a method without prompts) and their run time."""
    head = ['method'] + list(keys) + ['time']
    lines = []
    for r in results:
        cells = [r['name']]
        for key in keys:
            v = pick(r['metrics'], key)
            cells.append('-' if v is None else f'{100 * v:.2f}')
        cells.append(f"{r['seconds']:.0f} s")
        lines.append(cells)
    if markdown:
        out = ['| ' + ' | '.join(head) + ' |',
               '| ' + ' | '.join('---' for _ in head) + ' |']
        out += ['| ' + ' | '.join(c) + ' |' for c in lines]
        return '\n'.join(out)
    width = max(len(c[0]) for c in lines + [head]) + 1
    fmt = [f'{h:{width}s}' if i == 0 else f'{h:>13s}'
           for i, h in enumerate(head)]
    out = [''.join(fmt)]
    for c in lines:
        out.append(''.join(f'{x:{width}s}' if i == 0 else f'{x:>13s}'
                           for i, x in enumerate(c)))
    return '\n'.join(out)
