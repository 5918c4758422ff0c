# Copyright (c) mmppm contributors. All rights reserved.
"""No test category may be a training category of the checkpoint tested."""
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmpose.registry import HOOKS

from mmppm.datasets.category_digest import category_digests
from mmppm.utils.errors import UserError

#: Key of ``checkpoint['meta']``: ``{digest: category name}`` of the
#: categories the checkpoint was trained on.
META_KEY = 'train_category_digests'


def _dataset(loop):
    dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
    return dataset if hasattr(dataset, 'instances') else None


@HOOKS.register_module()
class CategoryHygieneHook(Hook):
    """Record the training categories in every checkpoint; refuse to test
    a checkpoint on them.

    Saving during training: ``checkpoint['meta']['train_category_digests']``
    = ``{digest: name}`` of the training set's categories
    (:func:`mmppm.datasets.category_digest.category_digests`: content, not
    names). Loading for a test run (``tools/test.py CONFIG CHECKPOINT`` or
    ``load_from``): before the first episode, where a test category's
    digest is among the checkpoint's, one line names the categories and
    the way out; a checkpoint without the record is tested as before.

    Args:
        allow_train_categories (bool): Test anyway (a deliberate
            experiment, e.g. the fit on base categories); the overlap is
            then logged as a warning. Defaults to False.
    """

    priority = 'VERY_HIGH'

    def __init__(self, allow_train_categories: bool = False) -> None:
        if not isinstance(allow_train_categories, bool):
            raise UserError(
                'CategoryHygieneHook: allow_train_categories must be True '
                f'or False, got {allow_train_categories!r}')
        self.allow_train_categories = allow_train_categories

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        loop = runner._train_loop
        dataset = _dataset(loop) if isinstance(loop, BaseLoop) else None
        if dataset is None:
            return
        digests = category_digests(dataset.instances)
        checkpoint.setdefault('meta', {})[META_KEY] = {
            digest: dataset.categories[cid]['name']
            for cid, digest in digests.items()
        }

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        trained = (checkpoint.get('meta') or {}).get(META_KEY) or {}
        if not isinstance(trained, dict):
            runner.logger.warning(
                f'the checkpoint\'s meta {META_KEY!r} is not a table of '
                'digests; its training categories are not checked')
            return
        loop = runner._test_loop
        dataset = _dataset(loop) if isinstance(loop, BaseLoop) else None
        if not trained or dataset is None:
            return
        clash = [
            dataset.categories[cid]['name']
            for cid, digest in category_digests(dataset.instances).items()
            if digest in trained
        ]
        if not clash:
            return
        verb = 'y is' if len(clash) == 1 else 'ies are'
        message = (
            f'{len(clash)} test categor{verb}'
            f' training categories of the checkpoint ({", ".join(clash[:5])}'
            f'{", ..." if len(clash) > 5 else ""}; same annotations): test '
            'on categories it was not trained on, or pass '
            '--allow-train-categories (tools/test.py; '
            'CategoryHygieneHook(allow_train_categories=True) in a config) '
            'for a deliberate experiment')
        if not self.allow_train_categories:
            raise UserError(message)
        runner.logger.warning(message)
