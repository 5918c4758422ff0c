# Copyright (c) mmppm contributors. All rights reserved.
"""What a checkpoint says it was trained as, read without running it.

mmengine saves the training config's text in ``checkpoint['meta']['cfg']``.
That text is Python, and a checkpoint is a file a user may be handed, so
it is never executed (no ``Config.fromstring``): :func:`saved_model_part`
parses it (``ast``) and reads only literals and ``dict(...)`` calls.
:func:`check_prompt_encoder` compares the CPT prompt encoder the
checkpoint was trained with and the one the config builds: a residual
``Phi`` tested as a plain one (same weight names, other maths) loaded
without a word and scored 39.8 instead of 89.4 (docs/reliability.md).
"""
import ast
import inspect
from typing import Any, Optional

from mmengine.registry import DefaultScope
from mmpose.registry import MODELS

from mmppm.utils.errors import UserError

#: Arguments the estimator fills in (``embed_dims``: the SD's width, whose
#: mismatch the weights' shapes already refuse).
FILLED_BY_MODEL = ('embed_dims', 'init_cfg')


class _Unreadable(Exception):
    """A node that is not a literal or a ``dict(...)`` of literals."""


def _value(node: ast.AST) -> Any:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == 'dict' and not node.args:
        return {kw.arg: _value(kw.value) for kw in node.keywords if kw.arg}
    if isinstance(node, ast.Dict):
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_value(e) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise _Unreadable from None


def saved_model_part(cfg_text: Any, key: str) -> Optional[Any]:
    """``model.<key>`` of a saved config's text, or None where the text
    has no such entry or cannot be read as literals."""
    if not isinstance(cfg_text, str):
        return None
    try:
        tree = ast.parse(cfg_text)
    except (SyntaxError, ValueError):
        return None
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == 'model'
                for t in stmt.targets):
            try:
                model = _value(stmt.value)
            except _Unreadable:
                return None
            return model.get(key) if isinstance(model, dict) else None
    return None


def with_defaults(cfg: Optional[dict]) -> Optional[dict]:
    """A component config with its class's defaults filled in (so
    ``dict(type='SharedPromptMLP')`` equals the same with
    ``residual=False``), less :data:`FILLED_BY_MODEL`."""
    if not isinstance(cfg, dict):
        return cfg
    cfg = dict(cfg)
    kind = cfg.get('type')
    with DefaultScope.overwrite_default_scope('mmpose'):
        cls = MODELS.get(kind) if isinstance(kind, str) else kind
    if inspect.isclass(cls):
        cfg['type'] = cls.__name__
        for name, param in inspect.signature(cls.__init__).parameters.items():
            if name != 'self' and param.default is not param.empty:
                cfg.setdefault(name, param.default)
    for name in FILLED_BY_MODEL:
        cfg.pop(name, None)
    return cfg


def check_prompt_encoder(meta: Any, model_cfg: Any, checkpoint: str) -> None:
    """Refuse a CPT checkpoint whose saved config trained another prompt
    encoder than ``model_cfg`` builds (type or arguments, defaults filled
    in). A checkpoint without a readable saved config, or one of plain
    PPM, is not compared (its weights are checked as before).

    Raises:
        UserError: One line naming the differing arguments and the fix.
    """
    saved = saved_model_part(
        (meta or {}).get('cfg') if isinstance(meta, dict) else None,
        'prompt_encoder')
    wanted = (model_cfg or {}).get('prompt_encoder') if hasattr(
        model_cfg, 'get') else None
    if not isinstance(saved, dict) or not isinstance(wanted, dict):
        return
    saved, wanted = with_defaults(saved), with_defaults(dict(wanted))
    diff = sorted(
        k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
    if diff:
        pairs = ', '.join(f'{k}={saved.get(k)!r} (config: {wanted.get(k)!r})'
                          for k in diff)
        raise UserError(
            f'checkpoint {checkpoint} was trained with another CPT prompt '
            f'encoder than this config builds: {pairs}; test it with the '
            'config it was trained with (its model.prompt_encoder, e.g. '
            '--cfg-options model.prompt_encoder.' + diff[0] + '=' +
            repr(saved.get(diff[0])) + ')')
