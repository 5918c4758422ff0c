# Copyright (c) mmppm contributors. All rights reserved.
"""The ``test_cfg`` and ``train_cfg`` of :class:`PPMEstimator`: defaults,
validation (errors name the key and the fix)."""
from typing import Optional

from mmppm.utils.config_checks import nearest
from mmppm.utils.errors import ConfigError, UserError
from mmppm.utils.numerics import is_int
from ..builder import build_component
from ..map_modes import CachedMaps, ExactMaps, MapMode
from .cpt import CPTRecipe

PROMPT_INITS = ('random', 'names')
DEFAULT_TEST_CFG = dict(
    seed=0,  # episode e uses torch.Generator seeded with seed + e
    # 'random': N(0, fitter.prompt_init_std^2) (the paper); 'names': each
    # keypoint's name (the category's `keypoints` list) encoded by the SD
    # folder's own text encoder (needs text_encoder/ and tokenizer/;
    # docs/method.md). With fitter.steps=0 the name prompts are used as they
    # are.
    prompt_init='random',
    amp_dtype=None,  # 'bfloat16' / 'float16': autocast on CUDA
    # The learned prompts decoded on their own supports after the fit: the
    # metric reports their fit PCK (one extra map pass on the supports;
    # docs/method.md).
    fit_diagnostics=True,
    output_heatmaps=False,  # keep query maps in pred_fields.heatmaps
    # predict the supports themselves instead of the queries
    predict_supports=False,
    # CPT: predicting with a prompt encoder that was neither loaded from a
    # checkpoint nor trained in this process is an error unless this is set
    # (experiments with an untrained encoder).
    allow_untrained_prompt_encoder=False,
)
DEFAULT_TRAIN_CFG = dict(
    num_base_keypoints=None,  # K over all base categories (CPT training)
    prompt_init_std=1.0,
    seed=0,
    # dict(type='ExactMaps') (the paper, Eq. 6 with L_dm): one UNet pass per
    # (prompt, image) pair; dict(type='CachedMaps'): the maps from queries
    # cached under a zero token (as the fitter's CachedMaps), no diffusion
    # term: one UNet pass per image, so CPU-sized training runs far longer
    # (docs/cpt.md). All of a batch's pairs go in one chunk (no max_batch).
    map_mode=dict(type='ExactMaps'),
    # a registered CPTRecipe: 'PaperCPTRecipe' (P_bar, Phi and one prompt
    # P^k per base keypoint trained on single instances, paper Eq. 6);
    # 'EpisodicCPTRecipe' (P_bar and Phi trained through the test-time fit
    # on base-category episodes, no P^k; the train dataset yields episodes
    # with query targets; docs/cpt.md)
    recipe=dict(type='PaperCPTRecipe'),
)
#: The map modes CPT's pair loss takes (one (prompt, image) pair per map).
TRAIN_MAP_MODES = (ExactMaps, CachedMaps)


def merge_cfg(default: dict, cfg: Optional[dict], what: str) -> dict:
    """``default`` updated by ``cfg``; an unknown key is an error naming the
    nearest and the valid ones (mmpose ignores a misspelt key)."""
    cfg = dict(cfg or {})
    for key in sorted(set(cfg) - set(default)):
        raise ConfigError(f'model.{what} has no key {key!r}'
                          f'{nearest(key, default)} (valid: '
                          f'{", ".join(sorted(default))})')
    return dict(default, **cfg)


def check_test_cfg(cfg: Optional[dict]) -> dict:
    """The merged, checked ``test_cfg`` (the fit's own arguments are
    ``model.fitter``'s, checked by the :class:`PromptFitter` they build)."""
    cfg = merge_cfg(DEFAULT_TEST_CFG, cfg, 'test_cfg')
    what = 'model.test_cfg'
    if cfg['prompt_init'] not in PROMPT_INITS:
        raise UserError(f'{what}.prompt_init must be one of {PROMPT_INITS}'
                        f", got {cfg['prompt_init']!r}")
    if not is_int(cfg['seed']):
        raise UserError(f"{what}.seed must be an integer, got "
                        f"{cfg['seed']!r}")
    if cfg['amp_dtype'] not in (None, 'bfloat16', 'float16'):
        raise UserError(f"{what}.amp_dtype must be None, 'bfloat16' "
                        f"or 'float16', got {cfg['amp_dtype']!r}")
    return cfg


def check_train_cfg(cfg: Optional[dict]) -> dict:
    """The merged, checked ``train_cfg``."""
    cfg = merge_cfg(DEFAULT_TRAIN_CFG, cfg, 'train_cfg')
    what = 'model.train_cfg.map_mode'
    mode = build_component(cfg['map_mode'], MapMode, what)  # type and keys
    if not isinstance(mode, TRAIN_MAP_MODES):
        raise UserError(
            f"{what}.type={cfg['map_mode']['type']!r}: CPT trains with "
            f'{[m.__name__ for m in TRAIN_MAP_MODES]} (one map per (prompt, '
            'image) pair)')
    if 'max_batch' in cfg['map_mode']:
        raise UserError(f'{what}.max_batch is not used: CPT puts all of a '
                        'batch\'s pairs in one chunk; remove it')
    return cfg


def build_recipe(cfg: dict) -> CPTRecipe:
    """The CPT recipe of a checked ``train_cfg`` (``train_cfg.recipe``),
    which refuses the ``train_cfg`` values it cannot train with."""
    recipe = build_component(cfg['recipe'], CPTRecipe,
                             'model.train_cfg.recipe')
    recipe.check(cfg)
    return recipe
