# Copyright (c) mmppm contributors. All rights reserved.
"""Episodic PCK metric for category-agnostic pose estimation."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpose.registry import METRICS
from terminaltables import AsciiTable

from mmppm.utils import to_numpy
from mmppm.utils.atomic_io import atomic_write_json
from mmppm.utils.errors import UserError
from ..functional import (DEFAULT_THRS, episodic_pck, episodic_pck_mask,
                          fit_errors, fit_pck, kind_counts, normalized_errors,
                          swap_counts, twin_pairs)

#: fit PCK (at the headline threshold) below which a run warns.
FIT_WARN_PCK = 0.8


@METRICS.register_module()
class EpisodicPCK(BaseMetric):
    """PCK over the queries of few-shot episodes (MP-100 protocol).

    ``process`` takes the model's query samples (dicts, as mmengine's
    Evaluator passes them; samples whose ``episode_role`` is 'support' are
    skipped). Each needs ``pred_instances.keypoints`` [1, K, 2] and
    ``gt_instances.keypoints`` [1, K, 2] in original image pixels,
    ``gt_instances.keypoints_visible`` [1, K], ``gt_instances.bboxes``
    [1, 4] (xyxy), and the metainfo ``support_keypoints_visible`` [S, K],
    ``category_id``, ``category_name``. The arithmetic is
    :func:`mmppm.evaluation.functional.episodic_pck`.

    Returned keys (before ``prefix``): ``PCK@0.05`` ... ``PCK@0.25`` (one
    per threshold, mean over all queries), ``mPCK`` (their mean), ``PCK``
    (the value at ``headline_thr``) and, with ``per_category=True``,
    ``PCK@0.20/<category name>`` (``<name>#<id>`` where two categories
    share a name). Values are fractions in [0, 1]. Where the model
    reports fit diagnostics (``fit_keypoints``: the supports predicted by
    their own prompts, in the query metainfo, see ``PPMEstimator``), also
    ``fit_PCK@<headline>`` (those predictions scored like queries at this
    metric's thresholds, :func:`mmppm.evaluation.functional.support_errors`)
    and ``fit_map_loss_vs_zero``; a fit PCK below 0.8 logs a warning naming
    the knobs.

    Twins and kinds (docs/toy_benchmark.md, "The look-alike world"): with
    ``swap_rate=True``, where a category's ``keypoint_names`` (metainfo)
    have left/right twins (:func:`~mmppm.evaluation.functional.twin_pairs`),
    also ``swap_rate@<headline>``: the share of counted twin keypoints
    predicted within the headline threshold of their twin instead of
    themselves (:func:`~mmppm.evaluation.functional.swap_counts`), pooled
    over queries. With ``per_kind=True``, where the metainfo has
    ``keypoint_kinds`` (one kind per keypoint, e.g. the look-alike toy
    world's ``'twin'``, ``'morph'``, ``'unmarked'``, ``'other'``), also
    ``PCK@<headline>/kind/<kind>``: correct / counted keypoints of that kind,
    pooled over queries.

    Args:
        thrs (Sequence[float]): Thresholds. Defaults to
            (0.05, 0.10, 0.15, 0.20, 0.25).
        headline_thr (float): Threshold reported as ``PCK``. Must be one of
            ``thrs``. Defaults to 0.2.
        per_category (bool): Return per-category keys too. The per-category
            table is logged either way. Defaults to True.
        outfile_prefix (str, optional): Where given, the per-query scores
            are also written to ``{outfile_prefix}.queries.json`` (as
            mmpose's ``CocoMetric`` writes its predictions): one record per
            query with ``category_id``, ``category_name``, ``episode_id``,
            ``pck`` (at each of ``thrs``) and, where the model reports it,
            ``fit_pck``; the toy benchmark's intervals are computed from
            them (docs/toy_benchmark.md); with twins and kinds, also
            ``swaps`` (``[swapped, counted, correct]``) and ``kinds`` (``{kind:
            [correct, counted]}``) at the headline threshold. Defaults to
            None (not written).
        swap_rate (bool): Report the twins' swap rate. Defaults to True.
        per_kind (bool): Report PCK per kind of keypoint. Defaults to True.
        collect_device (str): Defaults to 'cpu'.
        prefix (str, optional): Defaults to None (no prefix).
    """

    default_prefix: Optional[str] = None

    def __init__(self,
                 thrs: Sequence[float] = DEFAULT_THRS,
                 headline_thr: float = 0.2,
                 per_category: bool = True,
                 outfile_prefix: Optional[str] = None,
                 swap_rate: bool = True,
                 per_kind: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.thrs = tuple(float(t) for t in thrs)
        if not any(np.isclose(headline_thr, t) for t in self.thrs):
            raise UserError(f'headline_thr {headline_thr} is not one of '
                            f'thrs {self.thrs}')
        self.headline_thr = float(headline_thr)
        self.per_category = per_category
        self.outfile_prefix = outfile_prefix
        self.swap_rate = bool(swap_rate)
        self.per_kind = bool(per_kind)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Score each query; store one small record per episode.

        mmengine's ``collect_results`` truncates the gathered results to the
        dataset length, i.e. the number of episodes, so results are grouped
        by episode (one list of per-query records each), never per query.
        """
        episodes: Dict[int, List[dict]] = OrderedDict()
        for ds in data_samples:
            if ds.get('episode_role', 'query') != 'query':
                continue
            gt = ds['gt_instances']
            query = dict(
                pred=to_numpy(ds['pred_instances']['keypoints'])[0],
                gt=to_numpy(gt['keypoints'])[0],
                query_visible=to_numpy(gt['keypoints_visible'])[0],
                support_visible=to_numpy(ds['support_keypoints_visible']),
                bbox=to_numpy(gt['bboxes'])[0])
            pck = episodic_pck(**query, thrs=self.thrs)
            episode_id = int(ds.get('episode_id', -1))
            record = dict(
                category_id=int(ds['category_id']),
                category_name=str(ds.get('category_name', ds['category_id'])),
                episode_id=episode_id,
                pck=pck.astype(np.float64))
            record.update(self._twins_and_kinds(ds, query))
            if ds.get('fit_keypoints') is not None:  # fit diagnostics
                # the supports predicted by their own prompts, scored as
                # queries at this metric's thresholds
                record['fit_pck_at_thrs'] = fit_pck(fit_errors(ds), self.thrs)
                record['fit_loss_vs_zero'] = float(
                    ds.get('fit_map_loss_vs_zero', np.nan))
            elif ds.get('fit_pck') is not None:  # cached by an older mmppm
                record['fit_pck'] = to_numpy(ds['fit_pck']).astype(np.float64)
                record['fit_loss_vs_zero'] = float(
                    ds.get('fit_map_loss_vs_zero', np.nan))
            episodes.setdefault(episode_id, []).append(record)
        self.results.extend(episodes.values())

    def _key(self, thr: float) -> str:
        return f'PCK@{thr:.2f}'

    def _twins_and_kinds(self, ds: dict, query: dict) -> dict:
        """A query's ``swaps`` and ``kinds`` counts at the headline
        threshold, where the category has twins / kinds and they are on."""
        out = {}
        names = ds.get('keypoint_names') or []
        pairs = twin_pairs(names) if self.swap_rate else []
        if pairs:
            out['swaps'] = list(
                swap_counts(**query, pairs=pairs, thr=self.headline_thr))
        kinds = ds.get('keypoint_kinds') or []
        if self.per_kind and len(kinds) == len(query['gt']):
            errors = normalized_errors(query['pred'], query['gt'],
                                       query['bbox'])
            mask = episodic_pck_mask(query['query_visible'],
                                     query['support_visible'])
            out['kinds'] = kind_counts(errors < self.headline_thr, mask, kinds)
        return out

    def _twin_kind_metrics(self, results: List[dict]) -> Dict[str, float]:
        """``swap_rate@<headline>`` and ``PCK@<headline>/kind/<kind>``,
        pooled over the queries that have them."""
        out = {}
        head = self._key(self.headline_thr)
        swaps = np.array([r['swaps'] for r in results if 'swaps' in r])
        if len(swaps) and swaps[:, 1].sum() > 0:
            out[f'swap_rate@{self.headline_thr:.2f}'] = float(
                swaps[:, 0].sum() / swaps[:, 1].sum())
        kinds: Dict[str, np.ndarray] = {}
        for r in results:
            for kind, counts in r.get('kinds', {}).items():
                kinds[kind] = kinds.get(kind, 0) + np.asarray(counts)
        for kind, (correct, counted) in sorted(kinds.items()):
            if counted:
                out[f'{head}/kind/{kind}'] = float(correct / counted)
        return out

    def _fit_metrics(self, results: List[dict], logger) -> Dict[str, float]:
        """``fit_PCK@<headline>`` and ``fit_map_loss_vs_zero``: how well the
        prompts reproduced their own supports (mean over queries, i.e. over
        episodes), with a warning naming the knobs when the fit is poor."""
        fits = [r for r in results if 'fit_pck' in r or 'fit_pck_at_thrs' in r]
        if not fits:
            return {}
        if all('fit_pck_at_thrs' in r for r in fits):  # at this metric's
            thrs = self.thrs
            fit = np.stack([r['fit_pck_at_thrs'] for r in fits]).mean(axis=0)
        else:  # predictions without per-keypoint errors: DEFAULT_THRS
            thrs = DEFAULT_THRS
            fit = np.stack([r['fit_pck'] for r in fits]).mean(axis=0)
        matches = [
            i for i, t in enumerate(thrs) if np.isclose(t, self.headline_thr)
        ]
        if not matches:
            logger.warning(
                f'fit PCK is not reported: these predictions carry it at '
                f'{list(DEFAULT_THRS)} only, not at headline_thr '
                f'{self.headline_thr} (predict again with this mmppm)')
            return {}
        head = matches[0]
        out = {
            f'fit_{self._key(thrs[head])}':
            float(fit[head]),
            'fit_map_loss_vs_zero':
            float(np.nanmean([r['fit_loss_vs_zero'] for r in fits])),
        }
        if out[f'fit_{self._key(thrs[head])}'] < FIT_WARN_PCK:
            logger.warning(
                f'The prompts did not fit their own supports: fit '
                f'{self._key(thrs[head])} = {100 * fit[head]:.1f} % '
                f'< {100 * FIT_WARN_PCK:.0f} % (map loss '
                f'{out["fit_map_loss_vs_zero"]:.2f} x '
                'that of an all-zero map). Query PCK is then no measure of '
                'the features. Knobs: model.fitter.steps, .lr, '
                '.prompt_init_std, model.head.loss, the Gaussian sigma '
                "(GenerateTarget's encoder) -- see docs/method.md and "
                'tools/analysis/fit_diagnostics.py.')
        return out

    def _dump_queries(self, results: List[dict]) -> None:
        """Write the per-query records to ``{outfile_prefix}.queries.json``
        (atomically: a reader never sees half a file)."""
        records = []
        for r in results:
            rec = dict(
                category_id=r['category_id'],
                category_name=r['category_name'],
                episode_id=r['episode_id'],
                pck=[float(v) for v in r['pck']])
            if 'fit_pck_at_thrs' in r:
                rec['fit_pck'] = [float(v) for v in r['fit_pck_at_thrs']]
            for key in ('swaps', 'kinds'):
                if key in r:
                    rec[key] = r[key]
            records.append(rec)
        atomic_write_json(f'{self.outfile_prefix}.queries.json',
                          dict(thrs=list(self.thrs), queries=records))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Mean PCK over all queries, per threshold and per category."""
        logger = MMLogger.get_current_instance()
        results = [query for episode in results for query in episode]
        if not results:
            logger.warning('EpisodicPCK got no query results.')
            return {}
        if self.outfile_prefix:
            self._dump_queries(results)
        pck = np.stack([r['pck'] for r in results])  # [N, T]
        mean = pck.mean(axis=0)  # [T]
        metrics = OrderedDict(
            (self._key(t), float(m)) for t, m in zip(self.thrs, mean))
        metrics['mPCK'] = float(mean.mean())
        head = int(np.argmin([abs(t - self.headline_thr) for t in self.thrs]))
        metrics['PCK'] = float(mean[head])
        metrics.update(self._fit_metrics(results, logger))
        metrics.update(self._twin_kind_metrics(results))

        cats = OrderedDict()
        for r, row in zip(results, pck):
            cats.setdefault((r['category_id'], r['category_name']),
                            []).append(row)
        names = [name for _, name in cats]
        header = ['category', 'id', 'queries'
                  ] + [self._key(t) for t in self.thrs] + ['mPCK']
        table = [header]
        for (cid, name), rows in sorted(cats.items()):
            cat_mean = np.mean(rows, axis=0)
            table.append([name, cid, len(rows)] +
                         [f'{100 * v:.2f}' for v in cat_mean] +
                         [f'{100 * cat_mean.mean():.2f}'])
            if self.per_category:
                label = name if names.count(name) == 1 else f'{name}#{cid}'
                metrics[f'{self._key(self.headline_thr)}/{label}'] = float(
                    cat_mean[head])
        table.append(['all', '', len(results)] +
                     [f'{100 * v:.2f}'
                      for v in mean] + [f'{100 * mean.mean():.2f}'])
        logger.info('Episodic PCK per category (%):\n' +
                    AsciiTable(table).table)
        return dict(metrics)
