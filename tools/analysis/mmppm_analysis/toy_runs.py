# Copyright (c) mmppm contributors. All rights reserved.
"""Rows of a results table, each one ``tools/test.py`` run (``make toy``,
``projects/toy_sd/tools/toy_sd_experiments.py``)."""
import contextlib
import io
import json
import os
import os.path as osp
import sys
import time
import traceback
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence

from mmppm.utils.errors import UserError

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
    'words':
    Row('word prompts (no fit)',
        'configs/ppm/ppm_toy-sd_1shot_toy_name-prompts.py'),
    'ppm':
    Row('PPM (cached maps)', PPM),
    'ppm_exact':
    Row('PPM (exact maps)', PPM, None,
        ('model.fitter.map_mode.type=ExactMaps', )),
    'cpt':
    Row('PPM+CPT (P^k at the fit lr; cached maps)',
        'configs/cpt/ppm_cpt_toy-sd_toy.py', 'data/toy_sd/cpt_toy.pth'),
    'fm':
    Row('feature matching (DIFT-style)',
        'configs/baselines/feature-matching_toy-sd_1shot_toy.py'),
    'copy':
    Row('support copy', 'configs/baselines/support-copy_1shot_toy.py'),
}


def pick(metrics: dict, key: str) -> Optional[float]:
    """A metric by its last name (``'PCK@0.20'`` of ``'toy/PCK@0.20'``)."""
    return next((v for k, v in metrics.items() if k.split('/')[-1] == key),
                None)


def row_tag(row: Row) -> str:
    """A work-dir name for the row: config stem + override values."""
    stem = osp.splitext(osp.basename(row.config))[0]
    values = [
        '_'.join(o.split('=', 1)[-1].split(',')[:2]) for o in row.options
    ]
    tag = '_'.join([stem] + values)
    return ''.join(c if c.isalnum() or c in '-_.' else '-' for c in tag)


class _Stream(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` while a row runs: writes go to the
    row's log, and afterwards to the stream it replaced -- a logger made
    during the row (mmengine makes one per Runner) keeps this object as its
    stream, so a message it logs later lands where output then goes, never
    in a closed file."""

    def __init__(self, target):
        super().__init__()
        self.target = target

    encoding = 'utf-8'

    def write(self, text: str) -> int:
        return self.target.write(text)

    def flush(self) -> None:
        self.target.flush()

    def fileno(self) -> int:
        return self.target.fileno()

    def isatty(self) -> bool:
        return False


@contextlib.contextmanager
def _output_to(path: str):
    """Send everything the process writes -- Python's ``sys.stdout`` and
    ``sys.stderr`` and what C code writes to file descriptors 1 and 2 --
    to the file ``path`` for the duration."""
    saved = sys.stdout, sys.stderr
    for stream in saved:
        stream.flush()
    with open(path, 'w', encoding='utf-8', buffering=1) as log:
        try:  # no file descriptors 1 / 2 (a daemon): Python streams only
            fds = {fd: os.dup(fd) for fd in (1, 2)}
        except OSError:
            fds = {}
        for fd in fds:
            os.dup2(log.fileno(), fd)
        streams = _Stream(log), _Stream(log)
        sys.stdout, sys.stderr = streams
        try:
            yield
        finally:
            for stream, target in zip(streams, saved):
                stream.flush()
                stream.target = target
            sys.stdout, sys.stderr = saved
            for fd, dup in fds.items():
                os.dup2(dup, fd)
                os.close(dup)


def _last_lines(path: str, n: int) -> List[str]:
    with open(path, encoding='utf-8', errors='replace') as f:
        return [line.rstrip() for line in f if line.strip()][-n:]


def run_rows(rows: Sequence[Row],
             work_dir: str,
             log: Callable = print,
             tail: int = 20) -> List[Dict]:
    """Run each row through the test entry of ``tools/test.py`` (resumable:
    a rerun replays finished episodes); return ``name``, ``metrics`` and
    ``seconds`` per row.

    A row's console output (mmengine's environment banner, its config,
    progress) goes to ``<work_dir>/<row tag>/console.log``; ``log``
    (print-like) gets one progress line per row instead, e.g. ``[3/10]
    PPM+CPT, 1-shot ... 88.46 PCK@0.2, fit 97.66 (7 s)``. A row that fails
    stops the run: ``log`` gets its log's path and last ``tail`` lines, and
    a :class:`~mmppm.utils.errors.UserError` saying so is raised (tools
    print it as one line and exit with status 1).
    """
    results = []
    for i, row in enumerate(rows, 1):
        out_dir = osp.join(work_dir, row_tag(row))
        os.makedirs(out_dir, exist_ok=True)
        out = osp.join(out_dir, 'metrics.json')
        console = osp.join(out_dir, 'console.log')
        log(f'[{i}/{len(rows)}] {row.name} ...', end=' ', flush=True)
        start = time.time()
        failure = None
        with _output_to(console):
            try:
                from mmppm.engine.testing import main as test_main
                test_main(
                    [row.config] +
                    ([row.checkpoint] if row.checkpoint else []) +
                    ['--work-dir', out_dir, '--out', out] +
                    (['--cfg-options', *row.options] if row.options else []))
            except (Exception, SystemExit) as err:
                if not (isinstance(err, SystemExit) and not err.code):
                    traceback.print_exc()
                    failure = err
        seconds = time.time() - start
        if failure is not None:
            last = _last_lines(console, tail)
            log(f'failed ({seconds:.0f} s); its log: {console}; last '
                f'lines:\n' + '\n'.join('    ' + line for line in last))
            raise UserError(
                f'{row.name} failed: {last[-1] if last else "no output"} '
                f'(full log: {console})') from failure
        with open(out) as f:
            metrics = json.load(f)
        metrics = metrics.get('metrics', metrics)
        results.append(dict(name=row.name, metrics=metrics, seconds=seconds))
        log(f'{progress_result(metrics)} ({seconds:.0f} s)')
    return results


def progress_result(metrics: dict) -> str:
    """A row's result in its progress line: PCK@0.2 and, for a method with
    prompts, their fit PCK@0.2, in percent."""
    pck, fit = pick(metrics, 'PCK@0.20'), pick(metrics, 'fit_PCK@0.20')
    text = '-' if pck is None else f'{100 * pck:.2f} PCK@0.2'
    return text if fit is None else f'{text}, fit {100 * fit:.2f}'


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
        out = [
            '| ' + ' | '.join(head) + ' |',
            '| ' + ' | '.join('---' for _ in head) + ' |'
        ]
        out += ['| ' + ' | '.join(c) + ' |' for c in lines]
        return '\n'.join(out)
    width = max(len(c[0]) for c in lines + [head]) + 1
    fmt = [
        f'{h:{width}s}' if i == 0 else f'{h:>13s}' for i, h in enumerate(head)
    ]
    out = [''.join(fmt)]
    for c in lines:
        out.append(''.join(f'{x:{width}s}' if i == 0 else f'{x:>13s}'
                           for i, x in enumerate(c)))
    return '\n'.join(out)
