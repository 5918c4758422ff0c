# Copyright (c) mmppm contributors. All rights reserved.
"""Prompt Pose Matching (PPM) with optional Category-shared Prompt Training."""
import logging
import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.evaluation.functional import (DEFAULT_THRS, episodic_pck_mask,
                                         map_loss_vs_zero, normalized_errors,
                                         pck_from_errors, peak_contrast)
from mmppm.utils import check_finite
from mmppm.utils.errors import UserError
from ..data_preprocessors import build_data_preprocessor
from ..map_modes import MAP_MODES, FitPairs, MapMode
from ..utils import (crop_to_image, image_to_crop, loss_plateaued,
                     map_loss, prompt_pair_weights)

MAP_FEATURES = tuple(MAP_MODES)
PROMPT_INITS = ('random', 'names')
DEFAULT_TEST_CFG = dict(
    steps=100,  # Adam steps of the per-episode prompt optimisation
    lr=2e-3,  # Adam learning rate (paper)
    prompt_init_std=1.0,  # std of the random-normal prompt init
    # 'random': N(0, prompt_init_std^2) (the paper); 'names': each keypoint's
    # name (the category's `keypoints` list) encoded by the SD folder's own
    # text encoder (needs text_encoder/ and tokenizer/; docs/method.md).
    # With steps=0 the name prompts are used as they are.
    prompt_init='random',
    # Units of the prompt that Adam moves (and init_std is in): None = raw
    # context units (the paper); 'auto' = the supports' map-logit spread per
    # unit of prompt, so lr and init mean the same on any SD (docs/method.md);
    # or a number: prompt = prompt_scale * optimised parameter.
    prompt_scale=None,
    max_batch=64,  # max (prompt, image) pairs per UNet call
    seed=0,  # episode e uses torch.Generator seeded with seed + e
    amp_dtype=None,  # 'bfloat16' / 'float16': autocast on CUDA
    # 'exact' (default): one UNet pass per (prompt, image) pair, as the paper;
    # 'cached': UNet queries once per image, maps by matmul, no L_dm (fast,
    # approximate); 'shared_context': all prompts as tokens of one context,
    # one UNet pass per image (fast, approximate: softmax mixes the tokens).
    # See mmppm/models/map_modes.
    map_features='exact',
    # None, or dict(patience=N, min_rel_improvement=r): stop an episode's
    # optimisation once its map loss has not improved by r (relative) over
    # the last N steps (at most `steps` steps either way).
    early_stop=None,
    # Maps of the learned prompts on their own supports after the fit: fit
    # PCK and map loss vs an all-zero map in every prediction's metainfo
    # (one extra map pass on the supports; docs/method.md).
    fit_diagnostics=True,
    output_heatmaps=False,  # keep query maps in pred_fields.heatmaps
    fit_check=False,  # predict the supports themselves instead of queries
    # CPT: predicting with a prompt encoder that was neither loaded from a
    # checkpoint nor trained in this process is an error unless this is set
    # (experiments with an untrained encoder).
    allow_untrained_prompt_encoder=False,
)
DEFAULT_TRAIN_CFG = dict(
    num_base_keypoints=None,  # K over all base categories (CPT training)
    prompt_init_std=1.0,
    seed=0,
    # 'exact' (the paper, Eq. 6 with L_dm): one UNet pass per (prompt,
    # image) pair; 'cached': the maps from queries cached under a zero token
    # (as test_cfg.map_features='cached'), no diffusion term: one UNet pass
    # per image, so CPU-sized training runs far longer (docs/cpt.md)
    map_features='exact',
)


def _check_early_stop(cfg, what: str) -> dict:
    keys = {'patience', 'min_rel_improvement'}
    if not isinstance(cfg, dict) or set(cfg) != keys:
        raise UserError(f'{what} must be None or dict(patience=N, '
                         f'min_rel_improvement=r), got {cfg!r}')
    if not isinstance(cfg['patience'], int) or cfg['patience'] < 1:
        raise UserError(f"{what}.patience must be an integer >= 1, got "
                         f"{cfg['patience']!r}")
    if not 0 <= cfg['min_rel_improvement'] < 1:
        raise UserError(f'{what}.min_rel_improvement must be in [0, 1), got '
                         f"{cfg['min_rel_improvement']!r}")
    return dict(cfg)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(
        value, bool) and math.isfinite(float(value))


def _check_test_cfg(cfg: dict) -> dict:
    """Validate a merged ``test_cfg``; errors name the key and the fix."""
    what = 'model.test_cfg'
    if not _is_int(cfg['steps']) or cfg['steps'] < 0:
        raise UserError(f"{what}.steps must be an integer >= 0, got "
                         f"{cfg['steps']!r}")
    if not _is_int(cfg['max_batch']) or cfg['max_batch'] < 1:
        raise UserError(f"{what}.max_batch must be an integer >= 1, got "
                         f"{cfg['max_batch']!r}")
    if not _is_number(cfg['lr']) or not 0 < cfg['lr'] <= 1e3:
        raise UserError(f"{what}.lr must be a number in (0, 1000], got "
                         f"{cfg['lr']!r}")
    if cfg['prompt_init'] not in PROMPT_INITS:
        raise UserError(f'{what}.prompt_init must be one of {PROMPT_INITS}'
                         f", got {cfg['prompt_init']!r}")
    if not _is_number(cfg['prompt_init_std']) or cfg['prompt_init_std'] < 0:
        raise UserError(f"{what}.prompt_init_std must be a number >= 0, "
                         f"got {cfg['prompt_init_std']!r}")
    scale = cfg['prompt_scale']
    if not (scale is None or scale == 'auto' or
            (_is_number(scale) and scale > 0)):
        raise UserError(f"{what}.prompt_scale must be None, 'auto' or a "
                         f'number > 0, got {scale!r}')
    if not _is_int(cfg['seed']):
        raise UserError(f"{what}.seed must be an integer, got "
                         f"{cfg['seed']!r}")
    if cfg['map_features'] not in MAP_FEATURES:
        raise UserError(f'{what}.map_features must be one of '
                         f"{MAP_FEATURES}, got {cfg['map_features']!r}")
    if cfg['amp_dtype'] not in (None, 'bfloat16', 'float16'):
        raise UserError(f"{what}.amp_dtype must be None, 'bfloat16' "
                         f"or 'float16', got {cfg['amp_dtype']!r}")
    if cfg['early_stop'] is not None:
        cfg['early_stop'] = _check_early_stop(cfg['early_stop'],
                                              f'{what}.early_stop')
    return cfg


def _merge_cfg(default: dict, cfg: Optional[dict], what: str) -> dict:
    cfg = dict(cfg or {})
    unknown = set(cfg) - set(default)
    if unknown:
        raise UserError(f'Unknown {what} keys {sorted(unknown)}; '
                         f'valid: {sorted(default)}')
    return dict(default, **cfg)


def _pck_bbox(sample) -> np.ndarray:
    """The sample's GT bbox (xyxy) for PCK; without one, the crop window."""
    if 'bboxes' in sample.gt_instances:
        return np.asarray(sample.gt_instances.bboxes, np.float32)[0]
    center = np.asarray(sample.metainfo['input_center'], np.float32)
    scale = np.asarray(sample.metainfo['input_scale'], np.float32)
    return np.concatenate([center - scale / 2, center + scale / 2])


def _to_tensor(x, device) -> Tensor:
    return torch.as_tensor(np.asarray(x), device=device)


@MODELS.register_module()
class PPMEstimator(BaseModel):
    """Category-agnostic pose estimation by Prompt Pose Matching.

    Test (one sample = one episode): learn one pseudo prompt per keypoint on
    the support image(s) so that its cross-attention map matches a Gaussian
    heatmap of the keypoint (paper Eq. 4), then take the argmax of each
    prompt's map on every query. All prompts and shots of an episode go
    through the UNet together (``max_batch`` pairs per call, with gradient
    accumulation beyond); support latents are encoded once per episode.

    Train (CPT, optional): with a ``prompt_encoder`` and
    ``train_cfg.num_base_keypoints``, learn the shared prompt, the MLP and
    one prompt per base keypoint on single instances (paper Eq. 6).

    Args:
        backbone (dict): :class:`SDCrossAttnBackbone` config.
        head (dict): :class:`PromptMatchingHead` config.
        prompt_encoder (dict, optional): e.g. :class:`SharedPromptMLP`
            (CPT). None: plain PPM, the context is the prompt itself.
        data_preprocessor (dict, optional): Defaults to
            ``EpisodeDataPreprocessor``.
        train_cfg (dict, optional): See ``DEFAULT_TRAIN_CFG``.
        test_cfg (dict, optional): See ``DEFAULT_TEST_CFG``.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict = dict(type='PromptMatchingHead'),
                 prompt_encoder: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=build_data_preprocessor(data_preprocessor),
            init_cfg=init_cfg)
        self.test_cfg = _check_test_cfg(
            _merge_cfg(DEFAULT_TEST_CFG, test_cfg, 'test_cfg'))
        self.train_cfg = _merge_cfg(DEFAULT_TRAIN_CFG, train_cfg,
                                    'train_cfg')
        if self.train_cfg['map_features'] not in ('exact', 'cached'):
            raise UserError("model.train_cfg.map_features must be 'exact' "
                             "or 'cached', got "
                             f"{self.train_cfg['map_features']!r}")
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        c = self.backbone.cross_attention_dim
        self.prompt_encoder = None
        if prompt_encoder is not None:
            prompt_encoder = dict(prompt_encoder)
            prompt_encoder.setdefault('embed_dims', c)
            self.prompt_encoder = MODELS.build(prompt_encoder)
        self.base_prompts = None
        k = self.train_cfg['num_base_keypoints']
        if k:
            g = torch.Generator().manual_seed(self.train_cfg['seed'])
            self.base_prompts = nn.Parameter(
                torch.randn(k, 1, c, generator=g) *
                self.train_cfg['prompt_init_std'])  # P^k, [K, 1, c]
        self.last_episode_losses: List[float] = []
        self.last_episode_map_losses: List[float] = []
        self.last_fit_report: Optional[dict] = None
        # CPT: whether P_bar and Phi were loaded or trained (see predict)
        self.prompt_encoder_ready = False

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        encoder_keys = [
            k for k in state_dict if k.startswith(prefix + 'prompt_encoder.')
        ]
        if encoder_keys and self.prompt_encoder is None:
            raise UserError(
                'The checkpoint holds CPT weights (P_bar and Phi: '
                f'{encoder_keys[:2]} ...) but this config has no '
                'prompt_encoder, so they would be ignored and the run would '
                'be plain PPM. Test a CPT checkpoint with a PPM+CPT config '
                '(configs/ppm_cpt_split*.py), or drop the checkpoint for '
                'plain PPM.')
        if encoder_keys:
            self._check_encoder_keys(encoder_keys, prefix)
            self.prompt_encoder_ready = True
        key = prefix + 'base_prompts'
        if self.base_prompts is None:  # test time: the P^k are not used
            state_dict.pop(key, None)
        if key in state_dict and self.base_prompts is not None and \
                state_dict[key].shape != self.base_prompts.shape:
            raise UserError(
                f'Checkpoint does not match the config: {key} has shape '
                f'{tuple(state_dict[key].shape)} (base keypoints K, 1, '
                f'channels c) but the model has '
                f'{tuple(self.base_prompts.shape)}. Check '
                'train_cfg.num_base_keypoints (the training split) and the SD '
                'model (model.backbone.pretrained).')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _check_encoder_keys(self, encoder_keys: List[str],
                            prefix: str) -> None:
        """A CPT checkpoint holds exactly the config's P_bar and Phi: a
        missing layer would stay randomly initialised, an unexpected one
        belongs to another encoder (mmengine would only warn)."""
        expected = {
            f'{prefix}prompt_encoder.{k}'
            for k in self.prompt_encoder.state_dict()
        }
        missing = sorted(expected - set(encoder_keys))
        unexpected = sorted(set(encoder_keys) - expected)
        if missing or unexpected:
            raise UserError(
                'The CPT checkpoint does not match the config\'s prompt '
                f'encoder (P_bar and Phi): missing {missing[:4]}'
                f'{" ..." if len(missing) > 4 else ""}, unexpected '
                f'{unexpected[:4]}{" ..." if len(unexpected) > 4 else ""}. '
                'Test it with the config it was trained with (the '
                'prompt_encoder settings and model.backbone.pretrained, which '
                'sets its width), or retrain.')

    # ----------------------------------------------------------- utilities
    def context(self, prompts: Tensor) -> Tensor:
        """UNet context of prompts ``[N, 1, c]`` (through Phi under CPT)."""
        if self.prompt_encoder is None:
            return prompts
        return self.prompt_encoder(prompts)

    def _autocast(self, device: torch.device):
        dtype = self.test_cfg['amp_dtype']
        enabled = dtype is not None and device.type == 'cuda'
        return torch.autocast(
            device_type=device.type,
            dtype=getattr(torch, dtype) if dtype else None,
            enabled=enabled)

    @staticmethod
    def _targets(samples) -> Tuple[Tensor, Tensor]:
        """Gaussian heatmaps ``[S, K, H, W]`` and visibility ``[S, K]``."""
        if any('heatmaps' not in s.get('gt_fields', {}) for s in samples):
            raise UserError(
                'Support samples carry no Gaussian heatmaps: add '
                "dict(type='GenerateTarget', encoder=dict(type='MSRAHeatmap', "
                '...)) before PackPoseInputs in the support pipeline (see '
                'configs/_base_/datasets/mp100_episodes.py).')
        heatmaps = np.stack([np.asarray(s.gt_fields.heatmaps) for s in samples])
        weights = np.stack([
            np.asarray(s.gt_instance_labels.keypoint_weights).reshape(-1) *
            (np.asarray(s.gt_instances.keypoints_visible).reshape(-1) > 0)
            for s in samples
        ])
        return torch.from_numpy(heatmaps), torch.from_numpy(weights)

    # --------------------------------------------------------- prompt fit
    def map_mode(self,
                 map_features: Optional[str] = None,
                 max_batch: Optional[int] = None) -> MapMode:
        """The way of computing maps (:mod:`mmppm.models.map_modes`):
        ``test_cfg.map_features`` with ``test_cfg.max_batch`` pairs per UNet
        call, unless given here (explicit per-call values, e.g. a
        benchmark's; ``test_cfg`` is not changed)."""
        cfg = self._test_cfg_with(map_features=map_features,
                                  max_batch=max_batch)
        return MAP_MODES[cfg['map_features']](self.backbone, self.context,
                                              cfg['max_batch'],
                                              self._autocast)

    def _test_cfg_with(self, **values) -> dict:
        """A checked copy of ``test_cfg`` with the values that are not
        None; ``test_cfg`` itself is not changed."""
        return _check_test_cfg(
            dict(self.test_cfg,
                 **{k: v
                    for k, v in values.items() if v is not None}))

    def fit_prompts(self,
                    support_latents: Tensor,
                    targets: Tensor,
                    visible: Tensor,
                    generator: torch.Generator,
                    what: str = 'episode',
                    progress: Optional[Callable[[int, int], None]] = None,
                    *,
                    steps: Optional[int] = None,
                    mode: Optional[MapMode] = None,
                    init: Optional[Tensor] = None) -> Tensor:
        """Optimise one prompt per keypoint on the support (paper Eq. 4).

        Args:
            support_latents (Tensor): ``[S, C, h, w]`` latents from
                :meth:`SDCrossAttnBackbone.encode`.
            targets (Tensor): ``[S, K, H, W]`` Gaussian heatmaps.
            visible (Tensor): ``[S, K]``; pairs with 0 give no loss.
            generator (torch.Generator): CPU generator for the prompt init
                and each step's noise.
            what (str): Name used in error messages.
            progress (callable, optional): Called as ``progress(done,
                steps)`` after every optimisation step (e.g. a progress bar).
            steps (int, optional): Optimisation steps; defaults to
                ``test_cfg.steps``.
            mode (MapMode, optional): How maps are computed; defaults to
                :meth:`map_mode` (the configured one).
            init (Tensor, optional): Initial prompts ``[K, 1, c]`` (e.g.
                :meth:`name_prompts`); defaults to the random init.

        Returns:
            Tensor: The learned prompts ``[K, 1, c]`` (detached). The loss of
            every step taken is left in ``self.last_episode_losses`` (its
            map term in ``self.last_episode_map_losses``); with
            ``test_cfg.early_stop`` there may be fewer than ``steps``.
        """
        cfg = self._test_cfg_with(steps=steps)
        device = support_latents.device
        num_kpts = visible.shape[1]
        c = self.backbone.cross_attention_dim
        params = (torch.randn(num_kpts, 1, c, generator=generator) *
                  cfg['prompt_init_std']).to(device)
        scale = self.prompt_scale(support_latents)
        if init is not None:
            if tuple(init.shape) != (num_kpts, 1, c):
                raise UserError(f'init prompts must be [{num_kpts}, 1, {c}],'
                                 f' got {tuple(init.shape)}')
            params = init.detach().to(device, params.dtype) / scale
        params.requires_grad_(True)
        optimizer = torch.optim.Adam([params], lr=cfg['lr'])
        # (keypoint, shot) pairs with a visible keypoint, keypoint-major.
        kpt_ids, img_ids = torch.nonzero(visible.t() > 0, as_tuple=True)
        kpt_ids, img_ids = kpt_ids.to(device), img_ids.to(device)
        pairs = FitPairs(kpt_ids, img_ids,
                         targets.to(device)[img_ids, kpt_ids],
                         prompt_pair_weights(kpt_ids, num_kpts, 'sum'))
        mode = self.map_mode() if mode is None else mode
        state = mode.prepare(support_latents, generator)
        self.last_episode_losses, self.last_episode_map_losses = [], []
        for step in range(cfg['steps']):
            # prompts as a leaf: each chunk's graph is freed after its
            # backward; d loss / d params = scale * d loss / d prompts
            prompts = (params.detach() * scale).requires_grad_(True)
            grad = torch.zeros_like(prompts)
            total = total_map = 0.
            for terms in mode.fit_terms(state, prompts, pairs, generator):
                losses = self.head.loss(**terms)
                loss = sum(losses.values())
                grad += torch.autograd.grad(loss, prompts)[0]
                total += float(loss.detach())
                total_map += float(losses['loss_map'].detach())
            check_finite(torch.tensor(total), f'{what}, step {step}')
            params.grad = grad * scale
            optimizer.step()
            self.last_episode_losses.append(total)
            self.last_episode_map_losses.append(total_map)
            if progress is not None:
                progress(step + 1, cfg['steps'])
            if self._plateaued(cfg['steps']):
                break
        return (params * scale).detach()

    @torch.no_grad()
    def prompt_scale(self, support_latents: Tensor) -> float:
        """``test_cfg.prompt_scale`` for these supports: 1 for None, the
        number given, or for ``'auto'`` the inverse of the supports' map
        logit spread per unit of context token
        (:meth:`SDCrossAttnBackbone.logit_sensitivity`, from one feature
        pass under a neutral prompt with fixed noise)."""
        scale = self.test_cfg['prompt_scale']
        if scale is None:
            return 1.
        if scale != 'auto':
            return float(scale)
        noisy, _ = self.backbone.add_noise(support_latents,
                                           torch.Generator().manual_seed(0))
        c = self.backbone.cross_attention_dim
        with self._autocast(support_latents.device):
            cached = self.backbone.layer_queries(
                noisy, support_latents.new_zeros(len(noisy), 1, c))
        return 1. / max(self.backbone.logit_sensitivity(cached), 1e-6)

    def _plateaued(self, steps: int) -> bool:
        """``test_cfg.early_stop`` applied to this episode's map losses."""
        cfg = self.test_cfg['early_stop']
        stop = cfg is not None and loss_plateaued(
            self.last_episode_map_losses, cfg['patience'],
            cfg['min_rel_improvement'])
        if stop:
            losses = self.last_episode_map_losses
            print_log(
                f'early stop after {len(losses)}/{steps} '
                f'steps (map loss {losses[0]:.4g} -> {losses[-1]:.4g})',
                logger='current',
                level=logging.DEBUG)
        return stop

    @torch.no_grad()
    def query_maps(self,
                   query_latents: Tensor,
                   prompts: Tensor,
                   map_size: Sequence[int],
                   generator: torch.Generator,
                   *,
                   mode: Optional[MapMode] = None) -> Tensor:
        """Maps of every prompt on every query, ``[Q, K, H, W]``, computed
        by ``mode`` (defaults to :meth:`map_mode`, the configured one)."""
        mode = self.map_mode() if mode is None else mode
        return mode.query_maps(query_latents, prompts, map_size, generator)

    @torch.no_grad()
    def fit_report(self, support_latents: Tensor, prompts: Tensor,
                   supports: list, targets: Tensor, visible: Tensor,
                   generator: torch.Generator) -> dict:
        """How well the learned prompts reproduce their own supports.

        One map pass of the prompts over the support images, decoded like a
        query (docs/method.md, "Fit diagnostics").

        Returns:
            dict: ``fit_pck`` ``[T]`` (mean over the supports, thresholds
            :data:`DEFAULT_THRS`, counted like a query of the episode),
            ``fit_errors`` ``[S, K]`` (each support keypoint's error over
            max(w, h) of its box, the distance PCK thresholds; NaN where it
            does not count), from which a metric computes the fit PCK at any
            threshold,
            ``map_loss_vs_zero`` (:func:`map_loss_vs_zero`), and per
            keypoint ``[S, K]``: ``peak_at_gt``, ``best_elsewhere``
            (:func:`peak_contrast`, beyond the PCK@0.2 distance: 0.16 x
            the crop size), ``error_px`` (crop pixels) and ``visible``.
        """
        map_size = tuple(targets.shape[-2:])
        maps = self.query_maps(support_latents, prompts, map_size, generator)
        keypoints, _ = self.head.decode(maps)  # [S, K, 2] crop pixels
        vis = visible.cpu().numpy()
        fit_pck, gt_crop, errors = [], [], []
        for s, sample in enumerate(supports):
            meta, gt = sample.metainfo, sample.gt_instances
            gt_xy = np.asarray(gt.keypoints, np.float32)[0]
            gt_crop.append(image_to_crop(gt_xy, meta['input_center'],
                                         meta['input_scale'],
                                         meta['input_size']))
            pred = crop_to_image(keypoints[s], meta['input_center'],
                                 meta['input_scale'], meta['input_size'])
            err = normalized_errors(pred, gt_xy, _pck_bbox(sample))
            counted = episodic_pck_mask(vis[s], vis)
            fit_pck.append(pck_from_errors(err, counted, DEFAULT_THRS))
            errors.append(np.where(counted, err, np.nan))
        gt_crop = np.stack(gt_crop)
        maps_np = maps.cpu().numpy()
        # "elsewhere": beyond the PCK@0.2 distance of a bbox padded 1.25x
        at_gt, elsewhere = peak_contrast(maps_np, gt_crop,
                                         0.2 / 1.25 * max(map_size))

        def objective(m, t):
            return map_loss(torch.from_numpy(m), torch.from_numpy(t),
                            self.head.map_loss).numpy()

        return dict(
            fit_pck=np.mean(fit_pck, axis=0),
            fit_errors=np.stack(errors),  # float64: same PCK as fit_pck
            map_loss_vs_zero=map_loss_vs_zero(maps_np,
                                              targets.cpu().numpy(), vis,
                                              objective),
            peak_at_gt=at_gt,
            best_elsewhere=elsewhere,
            error_px=np.linalg.norm(keypoints - gt_crop, axis=-1),
            visible=vis)

    # ------------------------------------------------------------- modes
    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            raise NotImplementedError(
                "PPMEstimator has no 'tensor' mode: use 'predict' (episodes) "
                "or 'loss' (CPT training)")
        raise RuntimeError(f'Invalid mode "{mode}"')

    def predict(self, inputs: List[Tensor], data_samples: List[list]) -> list:
        """Predict the queries of each episode.

        Args:
            inputs (list[Tensor]): One ``[S + Q, 3, H, W]`` stack per episode
                (supports first), RGB in [-1, 1].
            data_samples (list[list[PoseDataSample]]): The episodes' samples.

        Returns:
            list[PoseDataSample]: The query samples of all episodes with
            ``pred_instances`` (``keypoints`` ``[1, K, 2]`` in original image
            pixels, ``keypoint_scores`` ``[1, K]``).
        """
        results = []
        for images, samples in zip(inputs, data_samples):
            results.extend(self.predict_episode(images, samples))
        return results

    def predict_episode(self,
                        images: Tensor,
                        samples: list,
                        output_heatmaps: Optional[bool] = None,
                        fit_diagnostics: Optional[bool] = None,
                        progress: Optional[Callable[[int, int], None]] = None
                        ) -> list:
        """Fit prompts on the supports of one episode; predict its queries.

        Args:
            images (Tensor): ``[S + Q, 3, H, W]``, supports first.
            samples (list[PoseDataSample]): The episode's samples.
            output_heatmaps (bool, optional): Keep each query's maps in
                ``pred_fields.heatmaps``. Defaults to an ``output_heatmaps``
                flag in the first sample's metainfo (set e.g. by
                ``EpisodeVisualizationHook``), else
                ``test_cfg.output_heatmaps``.
            fit_diagnostics (bool, optional): Compute the fit report (below).
                Defaults to ``test_cfg.fit_diagnostics``.
            progress (callable, optional): ``progress(done, steps)`` after
                every prompt-fitting step (:meth:`fit_prompts`).

        Returns:
            list[PoseDataSample]: The queries with ``pred_instances``; with
            fit diagnostics their metainfo also holds
            ``fit_pck`` (``[T]`` at :data:`DEFAULT_THRS`) and
            ``fit_map_loss_vs_zero`` of the episode (the full report is
            left in ``self.last_fit_report``).
        """
        roles = [s.metainfo.get('episode_role', 'query') for s in samples]
        num_shots = roles.count('support')
        if num_shots == 0 or roles[:num_shots] != ['support'] * num_shots:
            raise UserError('An episode must list its support samples first '
                             f'(episode_role metainfo), got roles {roles}')
        if output_heatmaps is None:
            output_heatmaps = bool(samples[0].metainfo.get(
                'output_heatmaps', self.test_cfg['output_heatmaps']))
        self._check_prompt_encoder()
        episode_id = int(samples[0].metainfo.get('episode_id', 0))
        category = samples[0].metainfo.get('category_name', '?')
        what = f'episode {episode_id} ({category})'
        supports, queries = samples[:num_shots], samples[num_shots:]
        if self.test_cfg['fit_check']:
            images, queries = self._supports_as_queries(images, supports)
        seed = self.test_cfg['seed'] + episode_id
        generator = torch.Generator().manual_seed(seed)
        latents = self.backbone.encode(images, supports + queries)  # once
        targets, visible = self._targets(supports)
        init = None
        if self.test_cfg['prompt_init'] == 'names':
            init = self.name_prompts(samples[0].metainfo, visible.shape[1],
                                     what)
        with torch.enable_grad():
            prompts = self.fit_prompts(latents[:num_shots], targets, visible,
                                       generator, what, progress, init=init)
        input_size = queries[0].metainfo['input_size']  # (w, h)
        map_size = (int(input_size[1]), int(input_size[0]))
        maps = self.query_maps(latents[num_shots:], prompts, map_size,
                               generator)  # [Q, K, H, W]
        keypoints, scores = self.head.decode(maps)
        fit_meta = {}
        self.last_fit_report = None
        if fit_diagnostics is None:
            fit_diagnostics = self.test_cfg['fit_diagnostics']
        if fit_diagnostics:
            # its own generator: query predictions do not depend on it
            self.last_fit_report = self.fit_report(
                latents[:num_shots], prompts, supports, targets, visible,
                torch.Generator().manual_seed(seed))
            fit_meta = dict(
                fit_pck=self.last_fit_report['fit_pck'],
                fit_errors=self.last_fit_report['fit_errors'],
                fit_map_loss_vs_zero=self.last_fit_report['map_loss_vs_zero'])
        results = []
        for i, sample in enumerate(queries):
            meta = sample.metainfo
            kpts = crop_to_image(keypoints[i], meta['input_center'],
                                 meta['input_scale'], meta['input_size'])
            out = sample.clone()
            out.set_metainfo(fit_meta)
            pred = InstanceData()
            pred.keypoints = kpts[None].astype(np.float32)
            pred.keypoint_scores = scores[i][None]
            out.pred_instances = pred
            if output_heatmaps:
                out.pred_fields = PixelData(heatmaps=maps[i].cpu())
            results.append(out)
        return results

    def name_prompts(self, metainfo: dict, num_kpts: int,
                     what: str = 'episode') -> Tensor:
        """Prompts ``[K, 1, c]`` from the keypoint names in ``metainfo``
        (``keypoint_names``: the category's ``keypoints`` list), encoded by
        the SD folder's text encoder (:meth:`SDCrossAttnBackbone.embed_texts`)
        (``test_cfg.prompt_init='names'``)."""
        names = list(metainfo.get('keypoint_names') or [])
        if len(names) != num_kpts or not all(str(n).strip() for n in names):
            raise UserError(
                f"{what}: model.test_cfg.prompt_init='names' needs one "
                f'non-empty name per keypoint, but the category has '
                f'{len(names)} names for {num_kpts} keypoints (its '
                '"keypoints" list in the annotation file); use '
                "prompt_init='random' for it")
        return self.backbone.embed_texts(names)[:, None]

    def _check_prompt_encoder(self) -> None:
        """CPT predictions need P_bar and Phi from a checkpoint (or from
        training in this process)."""
        if (self.prompt_encoder is None or self.prompt_encoder_ready
                or self.test_cfg['allow_untrained_prompt_encoder']):
            return
        raise UserError(
            'This config has a CPT prompt encoder (P_bar and Phi) but no '
            'checkpoint was loaded into it: the predictions would use a '
            'random MLP. Pass the CPT checkpoint (tools/test.py CONFIG '
            'work_dirs/<run>/best.pth), or set model.test_cfg.'
            'allow_untrained_prompt_encoder=True to test an untrained '
            'encoder on purpose.')

    @staticmethod
    def _supports_as_queries(images: Tensor, supports: list):
        """Fit check: each support image becomes a query of its episode."""
        num_shots = len(supports)
        visible = np.stack([
            np.asarray(s.gt_instances.keypoints_visible).reshape(-1)
            for s in supports
        ])
        queries = []
        for s in supports:
            q = s.clone()
            q.set_metainfo(
                dict(episode_role='query', support_keypoints_visible=visible))
            queries.append(q)
        images = torch.cat([images[:num_shots], images[:num_shots]])
        return images, queries

    def loss(self, inputs: Tensor, data_samples: list) -> Dict[str, Tensor]:
        """CPT training loss on single instances (paper Eq. 6)."""
        if self.base_prompts is None or self.prompt_encoder is None:
            raise RuntimeError(
                'Training needs a prompt_encoder (CPT) and '
                'train_cfg.num_base_keypoints (total keypoints of the training '
                'categories); plain PPM has nothing to train.')
        device = inputs.device
        self.prompt_encoder_ready = True  # trained in this process
        latents = self.backbone.encode(inputs, data_samples)  # [B, 4, h, w]
        noisy, noise = self.backbone.add_noise(latents)
        # A batch mixes categories with different K: targets per sample.
        img_ids, prompt_ids, pair_targets = [], [], []
        num_base = self.base_prompts.shape[0]
        for b, sample in enumerate(data_samples):
            offset = int(sample.metainfo['keypoint_offset'])
            targets, visible = self._targets([sample])  # [1, K_b, H, W]
            ks = torch.nonzero(visible[0] > 0).flatten()
            if offset + visible.shape[1] > num_base:
                raise UserError(
                    f'keypoint_offset {offset} + K {visible.shape[1]} exceeds '
                    f'train_cfg.num_base_keypoints={num_base}')
            img_ids.append(torch.full_like(ks, b))
            prompt_ids.append(ks + offset)
            pair_targets.append(targets[0, ks])  # [n_b, H, W]
        img_ids = torch.cat(img_ids).to(device)
        prompt_ids = torch.cat(prompt_ids).to(device)
        pair_targets = torch.cat(pair_targets).to(device)  # [N, H, W]
        weights = prompt_pair_weights(prompt_ids, num_base, 'mean')
        if self.train_cfg['map_features'] == 'cached':
            c = self.backbone.cross_attention_dim
            with torch.no_grad():
                cached = self.backbone.layer_queries(
                    noisy, self.context(noisy.new_zeros(len(noisy), 1, c)))
            maps = self.backbone.maps_from_queries(
                cached, self.context(self.base_prompts[prompt_ids]), img_ids,
                torch.arange(len(prompt_ids), device=device),
                tuple(pair_targets.shape[-2:]))
            return self.head.loss(maps, pair_targets, None, None, weights)
        out = self.backbone(noisy[img_ids],
                            self.context(self.base_prompts[prompt_ids]),
                            tuple(pair_targets.shape[-2:]))
        return self.head.loss(
            out['maps'][:, 0], pair_targets,
            out['noise_pred'], noise[img_ids], weights)
