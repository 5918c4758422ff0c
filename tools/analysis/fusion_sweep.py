"""Choose FeatureSimilarityFusion's weight and temperature on one run.

Usage:
    python tools/analysis/fusion_sweep.py CONFIG [CHECKPOINT]
        [--split val|test] [--episodes N] [--weights W ...]
        [--temperatures T ...] [--layout-sigmas S ...] [--out RESULT.json]
        [--cfg-options k=v ...]

Runs the config's episodes (``--split val``: its ``val_dataloader``'s
categories, the ones the fusion is chosen on) once: the prompt fit and the
prompts' query maps (PPM, or PPM+CPT with a CPT checkpoint), and the support
keypoints' feature-similarity maps (model.fusion's features; a default
``FeatureSimilarityFusion`` when the config has none). Every (weight,
temperature) pair is then decoded from the same maps and scored with the
benchmark's PCK@0.2 (docs/toy_benchmark.md): weight 0 is the prompts alone,
1 is feature matching. With ``--layout-sigmas``, every pair is also
decoded after a ``SupportLayoutPrior`` of each sigma (its other arguments
from the config's, if it has one; the swap rate of twin keypoints is then
reported too). Prints one table, mean over queries (= over episodes of
equal size), and writes every query's PCK per setting with ``--out``.
docs/cpt.md, "PPM+CPT against feature matching".
"""
import argparse
import copy
import os
import os.path as osp
import time
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

from mmppm.engine.cli import run_tool
from mmppm.engine.cli.arg_types import positive_int
from mmppm.engine.cli.args import CfgOptionsAction
from mmppm.utils.atomic_io import atomic_write_json
from mmppm.utils.errors import UserError

DEFAULT_WEIGHTS = (0., 0.25, 0.5, 0.75, 1.)
DEFAULT_TEMPERATURES = (0.03, 0.1, 0.3)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='PPM or PPM+CPT config file')
    parser.add_argument('checkpoint', nargs='?', help='CPT checkpoint')
    parser.add_argument('--split', choices=('val', 'test'), default='val')
    parser.add_argument(
        '--episodes', type=positive_int, help='episodes per category')
    parser.add_argument(
        '--weights', type=float, nargs='+', default=list(DEFAULT_WEIGHTS))
    parser.add_argument(
        '--temperatures',
        type=float,
        nargs='+',
        default=list(DEFAULT_TEMPERATURES))
    parser.add_argument(
        '--layout-sigmas',
        type=float,
        nargs='+',
        default=[],
        help='also decode after a SupportLayoutPrior of each sigma')
    parser.add_argument('--out', help='write the result as JSON here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        default={},
        help='override config values (k=v)')
    args = parser.parse_args(argv)
    if any(not 0 <= w <= 1 for w in args.weights):
        parser.error(f'--weights must lie in [0, 1], got {args.weights}')
    if any(not t > 0 for t in args.temperatures):
        parser.error(f'--temperatures must be > 0, got {args.temperatures}')
    if any(not v > 0 for v in args.layout_sigmas):
        parser.error(f'--layout-sigmas must be > 0, got {args.layout_sigmas}')
    return args


def query_records(results: Sequence, fused: Dict[str,
                                                 np.ndarray]) -> List[dict]:
    """PCK@0.2 and twin-swap counts (``[swapped, counted, correct]``) of
    each query of one episode for every setting's prediction
    ``fused[key]`` (``[Q, K, 2]`` original image pixels)."""
    from mmppm.evaluation.functional.episodic_pck import episodic_pck
    from mmppm.evaluation.functional.twins import swap_counts, twin_pairs
    records = []
    for q, sample in enumerate(results):
        gt = sample.gt_instances
        args = (np.asarray(gt.keypoints)[0],
                np.asarray(gt.keypoints_visible)[0],
                np.asarray(sample.metainfo['support_keypoints_visible']),
                np.asarray(gt.bboxes)[0])
        pairs = twin_pairs(sample.metainfo.get('keypoint_names') or [])
        records.append(
            dict(
                category=str(sample.metainfo.get('category_name', '?')),
                episode_id=int(sample.metainfo.get('episode_id', -1)),
                pck={
                    key: float(episodic_pck(kpts[q], *args, thrs=(0.2, ))[0])
                    for key, kpts in fused.items()
                },
                swaps={
                    key:
                    [int(v) for v in swap_counts(kpts[q], *args, pairs, 0.2)]
                    for key, kpts in fused.items()
                }))
    return records


def setting_keys(weights, temperatures, sigmas) -> List[str]:
    """``'w/t'`` for every pair, ``'w/t/sigma'`` with a layout prior."""
    return [
        f'{w:g}/{t:g}' + suffix for w in weights for t in temperatures
        for suffix in [''] + [f'/{v:g}' for v in sigmas]
    ]


def decode_fused(model, prompt_maps, similarity, supports, queries, weights,
                 temperatures, priors) -> Dict[str, np.ndarray]:
    """Every setting's keypoints ``[Q, K, 2]`` in original image pixels, by
    the head's decoder: each (weight, temperature) pair, alone and after
    each layout prior of ``priors`` (``{sigma: SupportLayoutPrior}``)."""
    from mmppm.models.pose_estimators.episodes import to_image_pixels
    from mmppm.models.utils.map_fusion import fuse_maps
    out = {}
    for w in weights:
        for t in temperatures:
            fused = fuse_maps(prompt_maps, similarity, w, t)
            settings = {f'{w:g}/{t:g}': fused}
            for sigma, prior in priors.items():
                settings[f'{w:g}/{t:g}/{sigma:g}'] = prior(
                    None, None, supports, fused, None)
            for key, maps in settings.items():
                crop_xy, _ = model.head.decode(maps)
                out[key] = to_image_pixels(crop_xy, queries)
    return out


class _Recorder(torch.nn.Module):
    """Stands in for ``model.fusion``: keeps the prompt and similarity maps
    of the episode and returns the prompt maps unchanged."""

    def __init__(self, fusion):
        super().__init__()
        self.fusion = fusion
        self.maps = None

    def forward(self, backbone, latents, supports, prompt_maps, generator):
        self.maps = (prompt_maps.float(),
                     self.fusion.similarity(backbone, latents, supports,
                                            prompt_maps.shape[-2:],
                                            generator).float())
        return prompt_maps


def fusion_parts(cfg) -> Tuple[dict, dict]:
    """The config's ``FeatureSimilarityFusion`` and ``SupportLayoutPrior``
    arguments (``model.fusion`` one of them or a list), defaults where it
    has none."""
    fusion = cfg.model.get('fusion') or []
    items = fusion if isinstance(fusion, (list, tuple)) else [fusion]
    parts = {item.get('type'): dict(item) for item in items}
    return (parts.get('FeatureSimilarityFusion',
                      dict(type='FeatureSimilarityFusion')),
            parts.get('SupportLayoutPrior', dict(type='SupportLayoutPrior')))


def sweep(cfg,
          checkpoint,
          split: str,
          episodes,
          weights,
          temperatures,
          sigmas=()) -> dict:
    """Run the sweep; the result :func:`main` prints and writes."""
    from mmengine.registry import DefaultScope
    from mmpose.registry import DATASETS, MODELS

    from mmppm.apis import init_cape_model
    from mmppm.datasets.collate import episode_collate
    from mmppm.models.pose_estimators.episodes import split_episode
    cfg = copy.deepcopy(cfg)
    if cfg.model.get('type') != 'PPMEstimator':
        raise UserError(f'{cfg.filename}: fusion_sweep needs a PPMEstimator '
                        f"config, got model.type {cfg.model.get('type')!r}")
    similarity_cfg, prior_cfg = fusion_parts(cfg)
    cfg.model.fusion = similarity_cfg
    model = init_cape_model(cfg, checkpoint)
    model.fusion = _Recorder(model.fusion)
    with DefaultScope.overwrite_default_scope('mmpose'):
        priors = {
            sigma: MODELS.build(dict(prior_cfg, sigma=sigma))
            for sigma in sigmas
        }
    dataset_cfg = copy.deepcopy(cfg[f'{split}_dataloader'].dataset)
    if episodes is not None:
        dataset_cfg.num_episodes = int(episodes)
    dataset = DATASETS.build(dataset_cfg)
    records, start = [], time.perf_counter()
    for idx in range(len(dataset)):
        batch = model.data_preprocessor(episode_collate([dataset[idx]]), False)
        samples = batch['data_samples'][0]
        results = model.predict_episode(batch['inputs'][0], samples)
        prompt_maps, similarity = model.fusion.maps
        fused = decode_fused(model, prompt_maps, similarity,
                             split_episode(samples)[0], results, weights,
                             temperatures, priors)
        records.extend(query_records(results, fused))
        print(
            f'episode {idx + 1}/{len(dataset)} '
            f'({time.perf_counter() - start:.0f} s)',
            flush=True)
    keys = setting_keys(weights, temperatures, sigmas)
    means = {k: float(np.mean([r['pck'][k] for r in records])) for k in keys}
    swaps = {}
    for k in keys:
        swapped, counted, _ = np.sum([r['swaps'][k] for r in records], axis=0)
        swaps[k] = float(swapped / counted) if counted else None
    return dict(
        config=cfg.filename,
        checkpoint=checkpoint,
        split=split,
        queries=len(records),
        episodes=len(dataset),
        weights=list(weights),
        temperatures=list(temperatures),
        layout_sigmas=list(sigmas),
        layout_prior=prior_cfg,
        mean_pck=means,
        swap_rate=swaps,
        records=records,
        seconds=time.perf_counter() - start)


def table_lines(result: dict) -> List[str]:
    """Mean PCK@0.2 (%) and twin swap rate (%) of every setting."""
    sigmas = result.get('layout_sigmas', [])
    swaps = result.get('swap_rate', {})
    lines = [
        f"{result['split']}: {result['episodes']} episodes, "
        f"{result['queries']} queries (weight 0: prompts alone, 1: feature "
        'matching; layout sigma -: no SupportLayoutPrior)',
        '| weight | temperature | layout sigma | PCK@0.2 % | twins swapped % '
        '|', '| ---: | ---: | ---: | ---: | ---: |'
    ]
    for key in setting_keys(result['weights'], result['temperatures'], sigmas):
        parts = key.split('/') + ['-']
        rate = swaps.get(key)
        lines.append(f'| {parts[0]} | {parts[1]} | {parts[2]} | '
                     f"{100 * result['mean_pck'][key]:.2f} | "
                     f"{'-' if rate is None else f'{100 * rate:.1f}'} |")
    return lines


def main(argv=None):
    from mmppm.engine.cli import load_tool_config
    from mmppm.utils.config_checks import check_config
    args = parse_args(argv)
    if args.checkpoint and not osp.isfile(args.checkpoint):
        raise UserError(f'No checkpoint at {args.checkpoint}')
    cfg = load_tool_config(args.config, None, 'none')
    check_config(cfg, args.cfg_options)
    result = sweep(cfg, args.checkpoint, args.split, args.episodes,
                   args.weights, args.temperatures, args.layout_sigmas)
    print('\n'.join(table_lines(result)))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        atomic_write_json(args.out, result, indent=1)
        print(f'written: {args.out}')
    return result


if __name__ == '__main__':
    run_tool(main)
