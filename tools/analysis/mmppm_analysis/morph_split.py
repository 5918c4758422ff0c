# Copyright (c) mmppm contributors. All rights reserved.
"""PCK of the look-alike world's queries split by colouring: does a query
share its morph with a support? (docs/toy_benchmark.md, "The two worlds
side by side").

A run's per-query records (``EpisodicPCK(outfile_prefix=...)``) are in the
episode's query order; the episodes are re-drawn from the annotation file
exactly as ``MP100Dataset`` draws them (:func:`.sample_episodes`, same
seed), so each query is matched with its instance's ``morph`` and the
supports'.
"""
from collections import OrderedDict
from typing import Dict, List, Sequence

import numpy as np

from mmppm.datasets.mp100_dataset import (load_coco_json,
                                          parse_mp100_instances,
                                          sample_episodes)
from mmppm.utils.errors import UserError


def same_morph_flags(ann_file: str,
                     shots: int,
                     num_queries: int,
                     num_episodes: int,
                     seed: int = 1) -> Dict[int, List[bool]]:
    """Per episode id, per query: whether some support of the episode has
    the query's colouring (``morph`` of the annotations)."""
    data = load_coco_json(ann_file)
    morph = {ann['id']: ann.get('morph') for ann in data['annotations']}
    if any(m is None for m in morph.values()):
        raise UserError(f'{ann_file} has annotations without "morph": not '
                        'the look-alike toy world')
    instances, categories = parse_mp100_instances(data, ann_file, '')
    per_cat = OrderedDict((cid, []) for cid in categories)
    for i, inst in enumerate(instances):
        per_cat[inst['category_id']].append(i)
    names = {cid: c['name'] for cid, c in categories.items()}
    flags = {}
    for ep in sample_episodes(per_cat, names, shots, num_queries, num_episodes,
                              seed):
        support = {morph[instances[i]['id']] for i in ep['support_idx']}
        flags[ep['episode_id']] = [
            morph[instances[i]['id']] in support for i in ep['query_idx']
        ]
    return flags


def split_pck(queries: Sequence[dict], flags: Dict[int, List[bool]],
              thr_index: int) -> Dict[str, float]:
    """Mean query PCK where a support shares the query's morph
    (``same``) and where none does (``other``), with their query counts."""
    seen: Dict[int, int] = {}
    values: Dict[bool, List[float]] = {True: [], False: []}
    for q in queries:
        episode = int(q['episode_id'])
        n = seen.get(episode, 0)
        seen[episode] = n + 1
        values[flags[episode][n]].append(float(q['pck'][thr_index]))
    out = {}
    for key, name in ((True, 'same'), (False, 'other')):
        out[name] = float(np.mean(values[key])) if values[key] else np.nan
        out[f'{name}_queries'] = len(values[key])
    return out
