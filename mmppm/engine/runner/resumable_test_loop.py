# Copyright (c) mmppm contributors. All rights reserved.
"""A test loop over episodes that survives interruption.

A PPM test run optimises prompts for every episode, so a full benchmark takes
hours; :class:`ResumableTestLoop` appends each finished batch's predictions to
a per-process file and, when started again, replays the cached predictions
into the evaluator instead of calling the model, so a rerun only computes the
missing episodes and reports the same metric as an uninterrupted run.
"""
import datetime
import logging
import os.path as osp
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import torch
from mmengine.dist import barrier, get_rank
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.runner import TestLoop
from mmengine.runner.amp import autocast
# The same loss bookkeeping as mmengine's TestLoop (mmengine 0.10.x).
from mmengine.runner.loops import _parse_losses, _update_losses
from mmengine.structures import BaseDataElement
from mmpose.registry import LOOPS
from torch.utils.data import DataLoader

from mmppm.engine.cli import writable_dir
from .fingerprint import cache_key, config_fingerprint, run_fingerprint
from .prediction_cache import PredictionWriter, read_prediction_records


def iter_data_elements(obj: Any) -> Iterator[BaseDataElement]:
    """Yield the data elements in a (possibly nested) collated structure."""
    if isinstance(obj, BaseDataElement):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from iter_data_elements(item)


def batch_episode_ids(data_batch: Dict, id_key: str = 'episode_id') -> List:
    """The distinct episode ids of a batch, in order of first appearance.

    Args:
        data_batch (dict): A collated batch with a ``data_samples`` entry
            (data elements, possibly in nested lists, e.g. one list of
            support + query samples per episode).
        id_key (str): The metainfo key naming the episode.
            Defaults to ``'episode_id'``.

    Returns:
        list: The episode ids.

    Raises:
        KeyError: If a data sample has no ``id_key``.
    """
    ids: List = []
    for sample in iter_data_elements(data_batch['data_samples']):
        if id_key not in sample:
            raise KeyError(
                f'ResumableTestLoop: a data sample has no "{id_key}" '
                'metainfo; every sample of an episode must carry it.')
        episode_id = sample.get(id_key)
        if episode_id not in ids:
            ids.append(episode_id)
    return ids


def group_outputs_by_episode(
        outputs: Sequence,
        episode_ids: List,
        id_key: str = 'episode_id') -> Optional[Dict[Any, List]]:
    """Split a batch's model outputs by episode.

    With one episode in the batch all outputs are its own; otherwise every
    output must carry ``id_key``.

    Args:
        outputs (Sequence): What ``model.test_step`` returned.
        episode_ids (list): The batch's episode ids.
        id_key (str): The metainfo key naming the episode.

    Returns:
        dict | None: Episode id -> outputs (moved to CPU), or None if the
        outputs cannot be attributed to episodes.
    """
    outputs = [
        o.cpu() if isinstance(o, BaseDataElement) else o for o in outputs
    ]
    if len(episode_ids) == 1:
        return {episode_ids[0]: outputs}
    grouped: Dict[Any, List] = {episode_id: [] for episode_id in episode_ids}
    for output in outputs:
        episode_id = output.get(id_key) if isinstance(
            output, BaseDataElement) else None
        if episode_id not in grouped:
            return None
        grouped[episode_id].append(output)
    return grouped


#: Top-level config keys that cannot change a test run's predictions: where
#: things are written, logging, the training-only parts, the process wrapper
#: (``tools/test.py`` sets one for several processes, which test different
#: episodes of the same list: a rerun may change their number), and
#: ``load_from`` (keyed on its content instead). Every other key is keyed,
#: so a new or unknown key errs on the side of computing again.
UNKEYED_CONFIG = ('work_dir', 'launcher', 'log_level', 'log_processor',
                  'visualizer', 'vis_backends', 'default_hooks', 'show_dir',
                  'load_from', 'resume', 'experiment_name', 'train_dataloader',
                  'train_cfg', 'val_dataloader', 'val_cfg', 'val_evaluator',
                  'optim_wrapper', 'param_scheduler', 'auto_scale_lr',
                  'model_wrapper_cfg')
#: Keys of ``test_cfg`` (the loop) that only say where and whether to cache
#: or how often to log.
UNKEYED_LOOP = ('cache_dir', 'cache_name', 'resume', 'log_interval')
#: Keys of ``test_dataloader`` that only decide how data is loaded; each
#: episode is predicted on its own, so the batch size is one of them (a
#: rerun with another batch size replays the episodes already cached).
UNKEYED_LOADER = ('batch_size', 'num_workers', 'persistent_workers',
                  'pin_memory', 'prefetch_factor')
#: Hooks that only read outputs (pictures).
UNKEYED_HOOKS = ('EpisodeVisualizationHook', 'mmpose.EpisodeVisualizationHook')


def prediction_config(cfg: Any) -> Dict[str, Any]:
    """The resolved config that reaches the model, the test loop and the
    metric: the whole config less :data:`UNKEYED_CONFIG` and the
    bookkeeping keys of the loop, the data loader and picture hooks."""
    cfg = cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)
    keyed = {k: v for k, v in cfg.items() if k not in UNKEYED_CONFIG}
    if isinstance(keyed.get('test_cfg'), dict):
        keyed['test_cfg'] = {
            k: v
            for k, v in keyed['test_cfg'].items() if k not in UNKEYED_LOOP
        }
    if isinstance(keyed.get('test_dataloader'), dict):
        keyed['test_dataloader'] = {
            k: v
            for k, v in keyed['test_dataloader'].items()
            if k not in UNKEYED_LOADER
        }
    if isinstance(keyed.get('custom_hooks'), (list, tuple)):
        keyed['custom_hooks'] = [
            h for h in keyed['custom_hooks']
            if not (isinstance(h, dict) and h.get('type') in UNKEYED_HOOKS)
        ]
        if not keyed['custom_hooks']:  # none left: as if none were set
            del keyed['custom_hooks']
    return keyed


def config_cache_name(cfg: Any) -> str:
    """A short digest of :func:`prediction_config`."""
    return config_fingerprint(prediction_config(cfg))[:16]


def prediction_fingerprint(cfg: Any, dataset: Any) -> Dict[str, Any]:
    """What decides the predictions, each part keyed on content
    (:func:`mmppm.engine.runner.fingerprint.run_fingerprint`): the config
    (:func:`prediction_config`), the checkpoint, the SD weights, the
    annotation file, the images, and the code: mmppm's and that of every
    module of ``custom_imports``."""
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    instances = getattr(dataset, 'instances', None) or []
    imports = (cfg.get('custom_imports') or {}).get('imports') or []
    if isinstance(imports, str):
        imports = [imports]
    return run_fingerprint(
        config_cache_name(cfg),
        load_from=cfg.get('load_from'),
        pretrained=backbone.get('pretrained'),
        revision=backbone.get('revision'),
        ann_file=getattr(dataset, 'ann_file', None),
        image_paths=[i['img_path'] for i in instances if 'img_path' in i],
        code_modules=['mmppm'] + [str(m) for m in imports])


@LOOPS.register_module()
class ResumableTestLoop(TestLoop):
    """Test loop that caches each episode's predictions and resumes.

    Each sample of the test dataset is an episode whose data samples carry
    ``id_key`` in their metainfo. After every batch the model outputs are
    appended, keyed by episode, to ``{cache_dir}/{cache_name}/{timestamp}_
    rank{r}.jsonl`` (plain JSON, never unpickled). On start every file of
    that folder is read (so the number of processes may change between
    runs); a batch whose episodes are all cached skips ``model.test_step``
    and feeds the cached outputs to the evaluator. Hooks
    (``before/after_test_iter``) run for every batch; replayed outputs carry
    no maps (``pred_fields``).

    A batch is recorded once it has finished, so an interruption loses at
    most the batch in progress. A batch with some but not all episodes cached
    (after a change of batch size or process count) is computed again whole.

    Args:
        runner (Runner): A reference of runner.
        dataloader (Dataloader or dict): A dataloader object or a dict to
            build a dataloader.
        evaluator (Evaluator or dict or list): Used for computing metrics.
        fp16 (bool): Whether to enable fp16 testing. Defaults to False.
        cache_dir (str, optional): Folder of the prediction caches.
            Defaults to ``{work_dir}/predictions``.
        cache_name (str, optional): Subfolder of this run's cache. Defaults
            to a digest of the content of everything that decides the
            predictions (:func:`prediction_fingerprint`: config, checkpoint
            bytes, SD weights, annotation file, images), so a changed input
            never replays stale results.
        resume (bool): Whether to reuse cached predictions. With False the
            cache is ignored (but still written). Defaults to True.
        id_key (str): Metainfo key of the episode id.
            Defaults to ``'episode_id'``.
        log_interval (int): Log progress with an ETA every this many
            computed batches. Defaults to 1.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False,
                 cache_dir: Optional[str] = None,
                 cache_name: Optional[str] = None,
                 resume: bool = True,
                 id_key: str = 'episode_id',
                 log_interval: int = 1):
        super().__init__(runner, dataloader, evaluator, fp16=fp16)
        if cache_dir is None:
            cache_dir = osp.join(runner.work_dir, 'predictions')
        self.fingerprint: Optional[Dict[str, Any]] = None
        if cache_name is None:
            self.fingerprint = prediction_fingerprint(runner.cfg,
                                                      self.dataloader.dataset)
            cache_name = cache_key(self.fingerprint)
        self.cache_dir = osp.join(cache_dir, cache_name)
        self.resume = resume
        self.id_key = id_key
        self.log_interval = log_interval
        self.cached: Dict[Any, List] = {}
        self.num_replayed = 0
        self.num_computed = 0
        self._compute_time = 0.0
        self._warned_unattributable = False

    def run(self) -> dict:
        """Launch test, reusing cached episode predictions."""
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        self.test_loss.clear()
        # before the first episode, not when its predictions are written
        writable_dir(self.cache_dir, 'the prediction cache folder '
                     '(test_cfg.cache_dir)')

        self.cached = (
            read_prediction_records(self.cache_dir) if self.resume else {})
        # No process starts writing before all have read.
        barrier()
        print_log(
            f'ResumableTestLoop: prediction cache {self.cache_dir} holds '
            f'{len(self.cached)} episodes (resume={self.resume}); key parts '
            f'{self.fingerprint}.',
            logger='current')
        self.writer = PredictionWriter(
            osp.join(self.cache_dir,
                     f'{self.runner.timestamp}_rank{get_rank()}.jsonl'))
        self.num_replayed = self.num_computed = 0
        self._compute_time = 0.0
        try:
            for idx, data_batch in enumerate(self.dataloader):
                self.run_iter(idx, data_batch)
        finally:
            self.writer.close()
        print_log(
            f'ResumableTestLoop: {self.num_computed} batches computed, '
            f'{self.num_replayed} replayed from the cache.',
            logger='current')

        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        if self.test_loss:
            metrics.update(_parse_losses(self.test_loss, 'test'))
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    @torch.no_grad()
    def run_iter(self, idx, data_batch: Sequence[dict]) -> None:
        """Test (or replay) one batch of episodes.

        Args:
            idx (int): The batch index on this process.
            data_batch (Sequence[dict]): Batch of data from dataloader.
        """
        self.runner.call_hook(
            'before_test_iter', batch_idx=idx, data_batch=data_batch)
        episode_ids = batch_episode_ids(data_batch, self.id_key)
        if all(episode_id in self.cached for episode_id in episode_ids):
            outputs = []
            for episode_id in episode_ids:
                episode_outputs, self.test_loss = _update_losses(
                    list(self.cached[episode_id]), self.test_loss)
                outputs.extend(episode_outputs)
            self.num_replayed += 1
        else:
            start = time.perf_counter()
            with autocast(enabled=self.fp16):
                raw_outputs = self.runner.model.test_step(data_batch)
            self._record(raw_outputs, episode_ids)
            outputs, self.test_loss = _update_losses(raw_outputs,
                                                     self.test_loss)
            self._compute_time += time.perf_counter() - start
            self.num_computed += 1
            if self.num_computed % self.log_interval == 0:
                self._log_progress(idx)

        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_test_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)

    def _record(self, outputs: Sequence, episode_ids: List) -> None:
        grouped = group_outputs_by_episode(outputs, episode_ids, self.id_key)
        if grouped is None:
            if not self._warned_unattributable:
                print_log(
                    'ResumableTestLoop: outputs of a multi-episode batch do '
                    f'not all carry "{self.id_key}"; such batches are not '
                    'cached.',
                    logger='current',
                    level=logging.WARNING)
                self._warned_unattributable = True
            return
        try:
            self.writer.write(grouped)
        except TypeError as e:  # outputs that are not plain data
            if not self._warned_unattributable:
                print_log(
                    f'ResumableTestLoop: outputs not cached ({e}).',
                    logger='current',
                    level=logging.WARNING)
                self._warned_unattributable = True

    def _log_progress(self, idx: int) -> None:
        total = len(self.dataloader)
        per_batch = self._compute_time / self.num_computed
        eta = datetime.timedelta(seconds=int(per_batch * (total - idx - 1)))
        print_log(
            f'Test batch {idx + 1}/{total} ({self.num_replayed} replayed '
            f'from cache)  {per_batch:.2f} s/batch  eta (upper bound): {eta}',
            logger='current')
