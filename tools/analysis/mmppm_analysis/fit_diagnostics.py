# Copyright (c) mmppm contributors. All rights reserved.
"""The fit-diagnostics tool's library
(``tools/analysis/fit_diagnostics.py``): did the prompts fit, and do they
find keypoints? (docs/method.md)

:func:`run_fit_diagnostics` runs the test episodes of a config outside the
Runner, with the fit diagnostics on, optionally on an oracle diffusion model
whose answer is known (docs/oracles.md), and reports the supports' fit PCK, the
queries' PCK, the map loss against an all-zero map and, per keypoint, the
map value at the ground truth against the best value elsewhere;
:func:`fit_landscape` compares the fitted prompts with the keypoint-name
prompts. :func:`summary_lines` and :func:`landscape_lines` are what the
tool prints.

Not to be confused with:

- the **fit diagnostics** (:mod:`mmppm.evaluation.functional.fit_diagnostics`,
  ``test_cfg.fit_diagnostics``): the supports' fit PCK that every test run
  reports beside the query PCK; this tool reuses their arithmetic;
- the ``test_cfg.predict_supports`` flag of ``PPMEstimator``: predict the
  supports themselves instead of the queries
  (``configs/ppm/*_predict-supports.py``).
"""
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmpose.registry import DATASETS, MODELS

from mmppm.datasets import episode_collate
from mmppm.evaluation.functional import (DEFAULT_THRS, episodic_pck,
                                         fit_errors, fit_pck, fitted,
                                         peak_contrast, support_errors)
from mmppm.models.pose_estimators.episodes import (split_episode,
                                                   support_ground_truth,
                                                   support_targets,
                                                   to_image_pixels)
from mmppm.models.utils import image_to_crop
from mmppm.utils.errors import UserError

#: ``--oracle`` name -> backbone ``oracle`` config.
ORACLES = dict(
    positional=dict(type='PositionalOracle'), part=dict(type='PartOracle'))


def _thr_dict(values) -> Dict[str, float]:
    return {f'{t:.2f}': float(v) for t, v in zip(DEFAULT_THRS, values)}


def query_pck(results: list) -> np.ndarray:
    """PCK ``[Q, T]`` of predicted query samples (the metric's arithmetic)."""
    rows = []
    for r in results:
        gt = r.gt_instances
        rows.append(
            episodic_pck(
                np.asarray(r.pred_instances.keypoints)[0],
                np.asarray(gt.keypoints)[0],
                np.asarray(gt.keypoints_visible)[0],
                np.asarray(r.metainfo['support_keypoints_visible']),
                np.asarray(gt.bboxes)[0], DEFAULT_THRS))
    return np.stack(rows)


def keypoint_rows(result, supports: Sequence, episode_id: int,
                  category: str) -> List[dict]:
    """One row per keypoint of an episode (mean over its counted shots):
    its error over the object size, whether it is fitted (the PCK@0.2 rule,
    :func:`fitted`) and, where the supports' maps came with the result
    (``fit_fields``), the map value at the ground truth against the best
    value beyond the PCK@0.2 distance (:func:`peak_contrast`), both in each
    support's own crop (its ``input_center`` / ``input_scale``)."""
    errors = fit_errors(result.metainfo)  # [S, K]
    contrast = None
    if 'fit_fields' in result:
        s_num, k_num = errors.shape
        maps = np.asarray(result.fit_fields.heatmaps)
        maps = maps.reshape(s_num, k_num, *maps.shape[-2:])
        truth = support_ground_truth(supports)
        parts = []
        for s, sample in enumerate(supports):
            m = sample.metainfo
            gt_crop = image_to_crop(truth['support_keypoints'][s],
                                    m['input_center'], m['input_scale'],
                                    m['input_size'])
            # the PCK@0.2 distance: 0.2 x the box's longer side, in crop px
            x1, y1, x2, y2 = truth['support_bboxes'][s]
            px_per_image_px = float(m['input_size'][0]) / float(
                m['input_scale'][0])
            parts.append(
                peak_contrast(maps[s:s + 1], gt_crop[None],
                              0.2 * max(x2 - x1, y2 - y1) * px_per_image_px))
        contrast = tuple(np.concatenate(p) for p in zip(*parts))
    rows = []
    for k in range(errors.shape[1]):
        shots = ~np.isnan(errors[:, k])
        if not shots.any():
            continue
        row = dict(
            episode=episode_id,
            category=category,
            keypoint=k,
            error=round(float(errors[shots, k].mean()), 4),
            fitted=bool(fitted(errors[shots, k]).all()))
        if contrast is not None:
            row.update(
                peak_at_gt=round(float(contrast[0][shots, k].mean()), 4),
                best_elsewhere=round(float(contrast[1][shots, k].mean()), 4))
        rows.append(row)
    return rows


def check_ppm_config(cfg: Config) -> None:
    """The fit diagnostics need a PPM model (prompts to fit) and test episodes;
    refuse any other config in one line before anything is built.

    Raises:
        UserError: Naming the config's model type or the missing section.
    """
    from mmengine.registry import DefaultScope

    from mmppm.models.pose_estimators import PPMEstimator
    model = cfg.get('model')
    kind = model.get('type') if isinstance(model, dict) else None
    with DefaultScope.overwrite_default_scope('mmpose'):
        cls = MODELS.get(kind) if isinstance(kind, str) else kind
    if not (isinstance(cls, type) and issubclass(cls, PPMEstimator)):
        raise UserError(
            'the fit diagnostics need a PPM config '
            "(model.type='PPMEstimator'), "
            f'this one has model.type={kind!r}, which fits no prompts: '
            'choose a config of configs/ppm/ or configs/cpt/')
    if not isinstance(cfg.get('test_dataloader'), dict) or not isinstance(
            cfg.test_dataloader.get('dataset'), dict):
        raise UserError('the fit diagnostics need test episodes '
                        '(test_dataloader.dataset), this config has none: '
                        'choose a config of configs/ppm/ or configs/cpt/')


def run_fit_diagnostics(cfg: Config,
                        oracle: Optional[str] = None,
                        episodes: Optional[int] = None,
                        device: Optional[str] = None) -> dict:
    """Run a config's test episodes with fit diagnostics.

    Args:
        cfg (Config): A PPM config (``model`` and ``test_dataloader``).
        oracle (str, optional): ``'positional'`` or ``'part'``: the backbone
            becomes an ``OracleSDBackbone`` with that oracle
            (docs/oracles.md). Defaults to None
            (the model as configured).
        episodes (int, optional): Episodes per category (the dataset's
            ``num_episodes``). Defaults to the config's.
        device (str, optional): Defaults to CUDA if available, else CPU.

    Returns:
        dict: ``fit_pck`` and ``query_pck`` (threshold -> mean),
        ``map_loss_vs_zero`` (mean over episodes), ``keypoints`` (per-
        keypoint rows: ``error``, ``fitted``, ``peak_at_gt``,
        ``best_elsewhere``), ``fitted_fraction``, ``episodes``, ``queries``,
        ``seconds``, ``config`` (the oracle and test_cfg used).
    """
    check_ppm_config(cfg)
    cfg = cfg.copy()
    if oracle is not None:
        if oracle not in ORACLES:
            raise UserError(f'Unknown oracle {oracle!r}; choose one of '
                            f'{sorted(ORACLES)}')
        cfg.model.backbone.type = 'OracleSDBackbone'
        cfg.model.backbone.oracle = dict(ORACLES[oracle])
        preprocessor = dict(cfg.model.get('data_preprocessor') or {})
        preprocessor['type'] = 'OracleDataPreprocessor'  # images' keypoints
        cfg.model.data_preprocessor = preprocessor
    cfg.model.setdefault('test_cfg', {})['fit_diagnostics'] = True
    dataset_cfg = cfg.test_dataloader.dataset
    if episodes is not None:
        dataset_cfg.num_episodes = int(episodes)
    dataset = DATASETS.build(dataset_cfg)
    model = MODELS.build(cfg.model)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model.to(device).eval()
    fit, queries, ratios, rows = [], [], [], []
    start = time.perf_counter()
    for idx in range(len(dataset)):
        batch = model.data_preprocessor(episode_collate([dataset[idx]]), False)
        samples = batch['data_samples'][0]
        results = model.predict_episode(
            batch['inputs'][0],
            samples,
            output_heatmaps=True,
            fit_diagnostics=True)
        meta = results[0].metainfo
        fit.append(fit_pck(fit_errors(meta), DEFAULT_THRS))
        ratios.append(meta['fit_map_loss_vs_zero'])
        queries.append(query_pck(results))
        rows.extend(
            keypoint_rows(results[0],
                          split_episode(samples)[0],
                          int(meta.get('episode_id', idx)),
                          str(meta.get('category_name', '?'))))
        print_log(
            f'fit diagnostics episode {idx + 1}/{len(dataset)}: fit PCK@0.2 '
            f'{fit[-1][3]:.3f}, query PCK@0.2 {queries[-1][:, 3].mean():.3f}',
            logger='current')
    queries = np.concatenate(queries)
    return dict(
        fit_pck=_thr_dict(np.mean(fit, axis=0)),
        query_pck=_thr_dict(queries.mean(axis=0)),
        map_loss_vs_zero=float(np.nanmean(ratios)),
        fitted_fraction=float(np.mean([r['fitted'] for r in rows]))
        if rows else float('nan'),
        episodes=len(dataset),
        queries=int(len(queries)),
        seconds=round(time.perf_counter() - start, 1),
        config=dict(
            oracle=cfg.model.backbone.get('oracle'),
            test_cfg=dict(model.test_cfg),
            fitter=dict(
                steps=model.fitter.steps,
                lr=model.fitter.lr,
                prompt_init_std=model.fitter.prompt_init_std,
                map_mode=type(model.fitter.map_mode).__name__),
            map_loss=type(model.head.loss_module).__name__,
            loss_dm_weight=model.head.loss_dm_weight),
        keypoints=rows)


@torch.no_grad()
def objective_along(model,
                    latents: torch.Tensor,
                    targets: torch.Tensor,
                    visible: torch.Tensor,
                    start: torch.Tensor,
                    end: torch.Tensor,
                    alphas,
                    seed: int = 0) -> np.ndarray:
    """The prompt fit's objective (paper Eq. 4, the configured map loss and
    diffusion term) on the supports at ``(1 - a) start + a end`` for each
    ``a`` of ``alphas``; prompts ``[K, 1, c]``. Same noise at every point."""
    from mmppm.models.map_modes import FitPairs
    pairs = FitPairs.from_visible(targets, visible, latents.device)
    mode = model.bound_map_mode()
    values = []
    for a in alphas:
        gen = torch.Generator().manual_seed(seed)
        state = mode.prepare(latents, gen)
        prompts = (1 - a) * start + a * end
        total = 0.
        for terms in mode.fit_terms(state, prompts, pairs, gen):
            total += float(sum(model.head.loss(**terms).values()))
        values.append(total / visible.shape[1])
    return np.asarray(values)


def fit_landscape(cfg: Config,
                  episodes: Optional[int] = None,
                  alphas=tuple(np.linspace(0, 1, 11)),
                  device: Optional[str] = None) -> dict:
    """Why does the fit miss a known-good prompt? (projects/toy_sd/README.md)

    For each test episode: the prompts the configured fit finds from its
    random init (``P_fit``) and the keypoint-name prompts (``P_name``,
    ``test_cfg.prompt_init='names'`` without fitting); the fit objective on
    the supports along the straight line from ``P_fit`` (a = 0) to
    ``P_name`` (a = 1), the prompts' norms and each one's fit PCK@0.2 (the
    prompts predicting their own supports). An objective lower at the names
    than at the fit's answer means the optimiser stopped short; higher means
    the objective prefers prompts that do not localise.

    Returns:
        dict: ``alphas``, per-episode ``objective`` rows, their mean
        ``mean_objective``, ``fit_norm`` / ``name_norm`` (mean prompt L2
        norm), ``fit_pck`` / ``name_pck`` (fit PCK@0.2 means), ``episodes``.
    """
    check_ppm_config(cfg)
    cfg = cfg.copy()
    if episodes is not None:
        cfg.test_dataloader.dataset.num_episodes = int(episodes)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    model = MODELS.build(cfg.model)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model.to(device).eval()
    curves, norms, pcks = [], dict(fit=[], name=[]), dict(fit=[], name=[])
    for idx in range(len(dataset)):
        batch = model.data_preprocessor(episode_collate([dataset[idx]]), False)
        images, samples = batch['inputs'][0], batch['data_samples'][0]
        supports, _ = split_episode(samples)
        shots = len(supports)
        latents = model.backbone.encode(images[:shots])
        targets, visible = support_targets(supports)
        seed = model.test_cfg['seed'] + int(samples[0].metainfo['episode_id'])
        with torch.enable_grad():
            learnt = model.fit_prompts(
                latents, targets, visible,
                torch.Generator().manual_seed(seed)).prompts
        names = model.name_prompts(samples[0].metainfo, visible.shape[1])
        curves.append(
            objective_along(model, latents, targets, visible, learnt, names,
                            alphas))
        truth = support_ground_truth(supports)
        map_size = tuple(targets.shape[-2:])
        for key, prompts in (('fit', learnt), ('name', names)):
            norms[key].append(float(prompts.norm(dim=-1).mean()))
            maps = model.query_maps(latents, prompts, map_size,
                                    torch.Generator().manual_seed(seed))
            crop_xy, _ = model.head.decode(maps)
            errors = support_errors(
                to_image_pixels(crop_xy, supports,
                                np.float64), truth['support_keypoints'],
                truth['support_bboxes'], truth['support_keypoints_visible'])
            pcks[key].append(float(fit_pck(errors, (0.2, ))[0]))
        print_log(
            f'landscape episode {idx + 1}/{len(dataset)}: objective fit '
            f'{curves[-1][0]:.4g} -> names {curves[-1][-1]:.4g}; fit PCK@0.2 '
            f'{pcks["fit"][-1]:.2f} vs {pcks["name"][-1]:.2f}',
            logger='current')
    return dict(
        alphas=[float(a) for a in alphas],
        objective=[c.tolist() for c in curves],
        mean_objective=np.mean(curves, axis=0).tolist(),
        fit_norm=float(np.mean(norms['fit'])),
        name_norm=float(np.mean(norms['name'])),
        fit_pck=float(np.mean(pcks['fit'])),
        name_pck=float(np.mean(pcks['name'])),
        episodes=len(dataset))


def summary_lines(result: dict) -> List[str]:
    """The printed report of :func:`run_fit_diagnostics`: the fit and query PCK
    table, the map loss, the fitted fraction and up to ten keypoints that
    were not fitted."""
    fit, query = result['fit_pck'], result['query_pck']
    lines = [
        f"{'':10s}" + ''.join(f'{"PCK@" + t:>10s}' for t in fit),
        f"{'fit':10s}" + ''.join(f'{100 * v:10.2f}' for v in fit.values()),
        f"{'query':10s}" + ''.join(f'{100 * v:10.2f}' for v in query.values()),
        f"map loss vs all-zero map: {result['map_loss_vs_zero']:.3f} "
        '(1 = no better than zeros, 0 = perfect)',
        f"keypoints fitted (found on their own supports within PCK@0.2): "
        f"{100 * result['fitted_fraction']:.1f} % "
        f"({result['episodes']} episodes, {result['queries']} queries, "
        f"{result['seconds']:.0f} s)",
    ]
    missed = [r for r in result['keypoints'] if not r['fitted']]
    for r in missed[:10]:
        peak = (f"; map {r['peak_at_gt']:.3f} at GT vs "
                f"{r['best_elsewhere']:.3f} elsewhere"
                if 'peak_at_gt' in r else '')
        lines.append(
            f"  not fitted: episode {r['episode']} {r['category']} "
            f"kp {r['keypoint']}: error {r['error']:.2f} x object size"
            f"{peak}")
    if len(missed) > 10:
        lines.append(f'  ... and {len(missed) - 10} more (see --out)')
    return lines


def landscape_lines(result: dict) -> List[str]:
    """The printed report of :func:`fit_landscape`."""
    return [
        'fit objective from the fitted prompts (a=0) to the name '
        'prompts (a=1), mean over episodes:',
        ' '.join(f'{a:.1f}:{v:.4g}'
                 for a, v in zip(result['alphas'], result['mean_objective'])),
        f"prompt norm: fitted {result['fit_norm']:.2f}, names "
        f"{result['name_norm']:.2f}; fit PCK@0.2: fitted "
        f"{100 * result['fit_pck']:.1f} %, names "
        f"{100 * result['name_pck']:.1f} % ({result['episodes']} "
        'episodes)',
    ]
