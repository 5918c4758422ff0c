# Copyright (c) mmppm contributors. All rights reserved.
"""Prompt Pose Matching (PPM) with optional Category-shared Prompt Training."""
from typing import Callable, Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.structures import PixelData
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils.errors import UserError
from ..builder import build_component
from ..fitters import FitResult, PromptFitter
from ..fusions import build_fusion
from ..map_modes import MapMode
from .base import BaseEpisodicEstimator
from .cpt import check_cpt_state_dict, check_prompt_encoder_ready
from .episodes import fit_diagnostics as support_fit_diagnostics
from .episodes import (pack_query_predictions, split_episode, support_targets,
                       supports_as_queries)
from .ppm_cfg import build_recipe, check_test_cfg, check_train_cfg


@MODELS.register_module()
class PPMEstimator(BaseEpisodicEstimator):
    """Category-agnostic pose estimation by Prompt Pose Matching.

    Test (one sample = one episode): a :class:`~mmppm.models.fitters.
    PromptFitter` learns one pseudo prompt per keypoint on the support
    image(s) so that its cross-attention map matches a Gaussian heatmap of
    the keypoint (paper Eq. 4); each prompt's map on every query is decoded
    by the head (its argmax). The fitter's map mode
    (``fitter.map_mode``, :mod:`mmppm.models.map_modes`) computes the maps
    of the fit and of the queries; support latents are
    encoded once per episode. Everything an episode produces travels in its
    query samples: predictions, the fit's losses and, with fit diagnostics,
    the supports' own predictions (scored by the metric: docs/method.md).

    Train (CPT, optional): with a ``prompt_encoder`` and
    ``train_cfg.num_base_keypoints``, learn the shared prompt, the MLP and
    one prompt per base keypoint on single instances (paper Eq. 6,
    :class:`.cpt.PaperCPTRecipe`; another recipe: ``train_cfg.recipe``).

    Args:
        backbone (dict): :class:`SDCrossAttnBackbone` config.
        head (dict): :class:`PromptMatchingHead` config (its ``loss``: the
            map objective).
        fitter (dict): :class:`PromptFitter` config: the fit's steps, lr,
            prompt init and scale, early stop and ``map_mode``. Defaults to
            ``dict(type='PromptFitter')`` (its defaults).
        prompt_encoder (dict, optional): e.g. :class:`SharedPromptMLP`
            (CPT). None: plain PPM, the context is the prompt itself.
        fusion (dict | list[dict], optional): Beyond the paper: a
            :mod:`~mmppm.models.fusions` module that combines the query maps
            with another cue before decoding (``FeatureSimilarityFusion``,
            ``SupportLayoutPrior``), or a list of them applied in order.
            None (default): the paper's maps.
        data_preprocessor (dict, optional): Defaults to
            ``EpisodeDataPreprocessor``.
        train_cfg (dict, optional): See ``ppm_cfg.DEFAULT_TRAIN_CFG``.
        test_cfg (dict, optional): See ``ppm_cfg.DEFAULT_TEST_CFG``.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict = dict(type='PromptMatchingHead'),
                 fitter: dict = dict(type='PromptFitter'),
                 prompt_encoder: Optional[dict] = None,
                 fusion: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor, init_cfg)
        self.test_cfg = check_test_cfg(test_cfg)
        self.train_cfg = check_train_cfg(train_cfg)
        self.recipe = build_recipe(self.train_cfg)
        self.fitter = build_component(fitter, PromptFitter, 'model.fitter')
        approximations = self.fitter.approximations()
        if approximations:
            print_log(
                'model.fitter is a speed variant ('
                f"{'; '.join(approximations)}): an "
                "approximation of the paper's fit (Eq. 4); its accuracy "
                'against exact maps: docs/benchmark.md, "Speed variants '
                'paired with exact maps"',
                logger='current')
        # the parts that load nothing first: their argument errors come
        # before the SD weights load
        self.head = build_component(head, nn.Module, 'model.head')
        self.fusion = None if fusion is None else build_fusion(fusion)
        self.backbone = build_component(backbone, nn.Module, 'model.backbone')
        if self.fusion is not None:
            self.fusion.check_backbone(self.backbone)
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
        # CPT: whether P_bar and Phi were loaded or trained (see predict)
        self.prompt_encoder_ready = False

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if check_cpt_state_dict(self, state_dict, prefix):
            self.prompt_encoder_ready = True
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # ------------------------------------------------------------ parts
    def context(self, prompts: Tensor) -> Tensor:
        """UNet context of prompts ``[N, 1, c]`` (through Phi under CPT)."""
        if self.prompt_encoder is None:
            return prompts
        return self.prompt_encoder(prompts)

    def autocast(self, device: torch.device):
        """``test_cfg.amp_dtype`` autocast (CUDA only)."""
        dtype = self.test_cfg['amp_dtype']
        return torch.autocast(
            device_type=device.type,
            dtype=getattr(torch, dtype) if dtype else None,
            enabled=dtype is not None and device.type == 'cuda')

    def bound_map_mode(self) -> MapMode:
        """The configured way of computing maps (``fitter.map_mode``),
        bound to the backbone, the context and ``test_cfg.amp_dtype``."""
        return self.fitter.map_mode.bind(self.backbone, self.context,
                                         self.autocast)

    def fit_prompts(self,
                    support_latents: Tensor,
                    targets: Tensor,
                    visible: Tensor,
                    generator: torch.Generator,
                    episode: str = 'episode',
                    progress: Optional[Callable[[int, int], None]] = None,
                    init: Optional[Tensor] = None) -> FitResult:
        """Learn one prompt per keypoint on the supports (paper Eq. 4):
        :meth:`PromptFitter.fit` with the configured map mode and head."""
        return self.fitter.fit(
            self.bound_map_mode(),
            self.head,
            support_latents,
            targets,
            visible,
            generator,
            init=init,
            progress=progress,
            episode=episode)

    @torch.no_grad()
    def query_maps(self, latents: Tensor, prompts: Tensor,
                   map_size: Sequence[int],
                   generator: torch.Generator) -> Tensor:
        """Maps ``[Q, K, H, W]`` of every prompt on every image."""
        return self.bound_map_mode().query_maps(latents, prompts, map_size,
                                                generator)

    def name_prompts(self,
                     metainfo: dict,
                     num_kpts: int,
                     episode: str = 'episode') -> Tensor:
        """Prompts ``[K, 1, c]`` from the keypoint names in ``metainfo``
        (``keypoint_names``: the category's ``keypoints`` list), encoded by
        the SD folder's text encoder (:meth:`SDCrossAttnBackbone.embed_texts`)
        (``test_cfg.prompt_init='names'``). A category's
        ``keypoint_words``, where the annotation gives them (the toy
        look-alike world's caption words, without ``left`` / ``right``), are
        used instead of its names."""
        names = list(
            metainfo.get('keypoint_words') or metainfo.get('keypoint_names')
            or [])
        if len(names) != num_kpts or not all(str(n).strip() for n in names):
            raise UserError(
                f"{episode}: model.test_cfg.prompt_init='names' needs one "
                f'non-empty name per keypoint, but the category has '
                f'{len(names)} names for {num_kpts} keypoints (its '
                '"keypoints" list in the annotation file); use '
                "prompt_init='random' for it")
        return self.backbone.embed_texts(names)[:, None]

    # ------------------------------------------------------------- modes
    def loss(self, inputs: Union[Tensor, List[Tensor]],
             data_samples: list) -> Dict[str, Tensor]:
        """CPT training loss, by the recipe of ``train_cfg.recipe``: on
        single instances (paper Eq. 6, ``PaperCPTRecipe``) or on
        base-category episodes through the test-time fit
        (``EpisodicCPTRecipe``)."""
        self.prompt_encoder_ready = True  # trained in this process
        episodic = self.recipe.dataset_mode != 'train'
        if episodic != isinstance(inputs, (list, tuple)):
            raise UserError(
                f'model.train_cfg.recipe ({type(self.recipe).__name__}) '
                f'needs a train dataset of {self.recipe.data}')
        return self.recipe.loss(self, inputs, data_samples)

    def predict_episode(
            self,
            images: Tensor,
            samples: list,
            output_heatmaps: Optional[bool] = None,
            fit_diagnostics: Optional[bool] = None,
            progress: Optional[Callable[[int, int], None]] = None) -> list:
        """Fit prompts on the supports of one episode; predict its queries.

        Args:
            images (Tensor): ``[S + Q, 3, H, W]``, supports first.
            samples (list[PoseDataSample]): The episode's samples.
            output_heatmaps (bool, optional): Keep each query's maps in
                ``pred_fields.heatmaps`` (and the supports' in
                ``fit_fields.heatmaps``, ``[S * K, H, W]``). Defaults to
                ``test_cfg.output_heatmaps``.
            fit_diagnostics (bool, optional): Decode the prompts on their own
                supports too. Defaults to ``test_cfg.fit_diagnostics``.
            progress (callable, optional): ``progress(done, steps)`` after
                every prompt-fitting step.

        Returns:
            list[PoseDataSample]: The queries with ``pred_instances``
            (``keypoints`` ``[1, K, 2]`` in original image pixels,
            ``keypoint_scores`` ``[1, K]``) and in their metainfo the fit's
            ``fit_losses``, ``fit_map_losses`` (per step) and
            ``fit_steps``; with fit diagnostics also ``fit_keypoints``
            (``[S, K, 2]``: each prompt decoded on the supports, image
            pixels), ``support_keypoints``, ``support_bboxes`` and
            ``fit_map_loss_vs_zero``.
        """
        if output_heatmaps is None:
            output_heatmaps = self.test_cfg['output_heatmaps']
        if fit_diagnostics is None:
            fit_diagnostics = self.test_cfg['fit_diagnostics']
        supports, queries = split_episode(samples)
        num_shots = len(supports)
        check_prompt_encoder_ready(self)
        episode_id = int(samples[0].metainfo.get('episode_id', 0))
        episode = (f'episode {episode_id} '
                   f"({samples[0].metainfo.get('category_name', '?')})")
        if self.test_cfg['predict_supports']:
            images, queries = supports_as_queries(images, supports)
        seed = self.test_cfg['seed'] + episode_id
        generator = torch.Generator().manual_seed(seed)
        latents = self.backbone.encode(images)  # once
        targets, visible = support_targets(supports)
        init = None
        if self.test_cfg['prompt_init'] == 'names':
            init = self.name_prompts(samples[0].metainfo, visible.shape[1],
                                     episode)
        with torch.enable_grad():
            fit = self.fit_prompts(
                latents[:num_shots],
                targets,
                visible,
                generator,
                episode,
                progress,
                init=init)
        input_size = queries[0].metainfo['input_size']  # (w, h)
        map_size = (int(input_size[1]), int(input_size[0]))
        maps = self.query_maps(latents[num_shots:], fit.prompts, map_size,
                               generator)  # [Q, K, H, W]
        if self.fusion is not None:  # its own noise: PPM's maps unchanged
            maps = self.fusion(self.backbone, latents, supports, maps,
                               torch.Generator().manual_seed(seed))
        keypoints, scores = self.head.decode(maps)
        meta = dict(
            fit_losses=fit.losses,
            fit_map_losses=fit.map_losses,
            fit_steps=fit.steps)
        support_maps = None
        if fit_diagnostics:
            # its own generator: query predictions do not depend on it
            support_maps = self.query_maps(latents[:num_shots], fit.prompts,
                                           map_size,
                                           torch.Generator().manual_seed(seed))
            meta.update(
                support_fit_diagnostics(self.head, support_maps, supports,
                                        targets, visible))
        results = pack_query_predictions(queries, keypoints, scores,
                                         maps if output_heatmaps else None,
                                         meta)
        if output_heatmaps and support_maps is not None:
            for out in results:
                out.fit_fields = PixelData(
                    heatmaps=support_maps.flatten(0, 1).cpu())
        return results
