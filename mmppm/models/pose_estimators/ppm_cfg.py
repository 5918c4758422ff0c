# Copyright (c) mmppm contributors. All rights reserved.
"""The ``test_cfg`` and ``train_cfg`` of :class:`PPMEstimator`: defaults,
validation (errors name the key and the fix) and the part that builds the
:class:`~mmppm.models.fitters.PromptFitter`."""
from typing import Optional

from mmppm.utils.errors import UserError
from mmppm.utils.numerics import is_int
from ..map_modes import MAP_MODES

MAP_FEATURES = tuple(MAP_MODES)
PROMPT_INITS = ('random', 'names')
#: test_cfg keys that are :class:`PromptFitter` arguments.
FIT_KEYS = ('steps', 'lr', 'prompt_init_std', 'prompt_scale', 'early_stop')
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
    # The learned prompts decoded on their own supports after the fit: the
    # metric reports their fit PCK (one extra map pass on the supports;
    # docs/method.md).
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
    # 'paper': P_bar, Phi and one prompt P^k per base keypoint trained on
    # single instances (paper Eq. 6); 'episodic': P_bar and Phi trained
    # through the test-time fit on base-category episodes (no P^k; the
    # train dataset yields episodes with query targets; docs/cpt.md)
    recipe='paper',
)
CPT_RECIPES = ('paper', 'episodic')


def merge_cfg(default: dict, cfg: Optional[dict], what: str) -> dict:
    """``default`` updated by ``cfg``; an unknown key is an error listing
    the valid ones (mmpose ignores a misspelt key)."""
    cfg = dict(cfg or {})
    unknown = set(cfg) - set(default)
    if unknown:
        raise UserError(f'Unknown {what} keys {sorted(unknown)}; '
                        f'valid: {sorted(default)}')
    return dict(default, **cfg)


def check_test_cfg(cfg: Optional[dict]) -> dict:
    """The merged, checked ``test_cfg`` (the fit keys are checked by the
    :class:`PromptFitter` they build)."""
    cfg = merge_cfg(DEFAULT_TEST_CFG, cfg, 'test_cfg')
    what = 'model.test_cfg'
    if not is_int(cfg['max_batch']) or cfg['max_batch'] < 1:
        raise UserError(f"{what}.max_batch must be an integer >= 1, got "
                        f"{cfg['max_batch']!r}")
    if cfg['prompt_init'] not in PROMPT_INITS:
        raise UserError(f'{what}.prompt_init must be one of {PROMPT_INITS}'
                        f", got {cfg['prompt_init']!r}")
    if not is_int(cfg['seed']):
        raise UserError(f"{what}.seed must be an integer, got "
                        f"{cfg['seed']!r}")
    if cfg['map_features'] not in MAP_FEATURES:
        raise UserError(f'{what}.map_features must be one of '
                        f"{MAP_FEATURES}, got {cfg['map_features']!r}")
    if cfg['amp_dtype'] not in (None, 'bfloat16', 'float16'):
        raise UserError(f"{what}.amp_dtype must be None, 'bfloat16' "
                        f"or 'float16', got {cfg['amp_dtype']!r}")
    return cfg


def check_train_cfg(cfg: Optional[dict]) -> dict:
    """The merged, checked ``train_cfg``."""
    cfg = merge_cfg(DEFAULT_TRAIN_CFG, cfg, 'train_cfg')
    if cfg['map_features'] not in ('exact', 'cached'):
        raise UserError("model.train_cfg.map_features must be 'exact' or "
                        f"'cached', got {cfg['map_features']!r}")
    if cfg['recipe'] not in CPT_RECIPES:
        raise UserError(f'model.train_cfg.recipe must be one of '
                        f"{CPT_RECIPES}, got {cfg['recipe']!r}")
    if cfg['recipe'] == 'episodic' and cfg['num_base_keypoints']:
        raise UserError(
            "model.train_cfg.recipe='episodic' trains no base prompts: "
            'leave model.train_cfg.num_base_keypoints None')
    return cfg


def fitter_cfg(test_cfg: dict) -> dict:
    """The :class:`PromptFitter` config of a checked ``test_cfg``."""
    return dict(type='PromptFitter', what='model.test_cfg',
                **{k: test_cfg[k] for k in FIT_KEYS})
