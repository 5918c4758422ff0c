# Copyright (c) mmppm contributors. All rights reserved.
"""Find the keypoints of labelled support image(s) in your query images.

Writes, per query, ``<name>_pred.png`` (the predicted keypoints, and the
skeleton when known, drawn with mmpose's ``PoseLocalVisualizer``), with
``--show-maps`` ``<name>_maps.png`` (each keypoint's attention map over the
query crop), and ``predictions.json`` (keypoints in original image pixels and
scores of all queries).

Example (offline, the toy data and tiny random SD of the README):
    python demo/cape_demo.py \\
        --config configs/ppm/ppm_random-sd_1shot_toy.py \\
        --support data/toy_mp100/images/toy_test_00/toy_test_00_0.jpg \\
        --support-keypoints support.json \\
        --query data/toy_mp100/images/toy_test_00 --show-maps \\
        --save-dir outputs/cape_demo

With a real Stable Diffusion add
``--cfg-options model.backbone.pretrained=runwayml/stable-diffusion-v1-5``
(a hub id or a local diffusers folder). See docs/inference.md.
"""
import argparse
import os
import os.path as osp
import sys


def parse_args(argv=None):
    from mmppm.engine.cli.args import CfgOptionsAction
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[1:]))
    parser.add_argument('--config', required=True, help='model config file')
    parser.add_argument(
        '--checkpoint',
        default=None,
        help='trained weights (CPT); plain PPM needs none')
    parser.add_argument(
        '--support',
        nargs='+',
        required=True,
        metavar='IMG',
        help='support image(s)')
    parser.add_argument(
        '--support-keypoints',
        required=True,
        metavar='FILE',
        help='COCO-style JSON (one annotation per support image; its bbox '
        'and category skeleton are used) or .npy/.txt/.csv with [K, 2|3] '
        '(one support) or [S, K, 2|3] (x, y[, visibility])')
    parser.add_argument(
        '--query',
        nargs='+',
        required=True,
        metavar='IMG|DIR',
        help='query image(s) or folder(s)')
    parser.add_argument('--save-dir', default='outputs/cape_demo')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--skeleton',
        nargs='+',
        default=None,
        metavar='I-J',
        help='0-based links, e.g. 0-1 1-2 (default: the JSON category '
        'skeleton, if any)')
    parser.add_argument(
        '--show-maps', action='store_true', help='also write <name>_maps.png')
    parser.add_argument(
        '--show-kpt-idx',
        action='store_true',
        help='write keypoint indices on the picture')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        default={},
        help='config overrides, e.g. model.backbone.pretrained=PATH_OR_ID '
        'model.fitter.steps=100')
    return parser.parse_args(argv)


def list_queries(entries):
    """Image files, folders expanded (sorted); raise on missing paths."""
    from mmppm.utils.errors import MissingFileError
    from mmppm.utils.file_names import IMG_EXTENSIONS
    paths = []
    for entry in entries:
        if osp.isdir(entry):
            found = sorted(
                osp.join(entry, f) for f in os.listdir(entry)
                if f.lower().endswith(IMG_EXTENSIONS))
            if not found:
                raise MissingFileError(f'No images in query folder {entry}')
            paths.extend(found)
        elif osp.isfile(entry):
            paths.append(entry)
        else:
            raise MissingFileError(f'Query image or folder not found: '
                                   f'{entry}')
    return paths


def parse_skeleton(links):
    from mmppm.utils.errors import UserError
    try:
        return [[int(i) for i in link.replace(',', '-').split('-')]
                for link in links]
    except ValueError:
        raise UserError(
            f'--skeleton expects pairs like 0-1, got {links}') from None


def run(args):
    import numpy as np

    from mmppm.apis import (inference_cape, init_cape_model, load_image,
                            read_coco_support)
    from mmppm.engine.cli import writable_dir
    from mmppm.utils.errors import MissingFileError
    from mmppm.utils.file_names import unique_stems
    from mmppm.visualization import (crop_image, draw_keypoints,
                                     draw_maps_grid, save_rgb,
                                     skeleton_zero_based)
    writable_dir(args.save_dir, '--save-dir')  # before the work, not after
    queries = list_queries(args.query)
    keypoints, bboxes, skeleton, names = args.support_keypoints, None, [], []
    for i, path in enumerate(args.support):  # before matching annotations
        if not osp.isfile(path):
            raise MissingFileError(f'support image {i} not found: {path}')
    if str(keypoints).endswith('.json'):
        ann = read_coco_support(keypoints, args.support)
        keypoints, bboxes = ann['keypoints'], ann['bboxes']
        skeleton, names = ann['skeleton'], ann['keypoint_names']
    model = init_cape_model(args.config, args.checkpoint, args.device,
                            args.cfg_options)
    results = inference_cape(
        model,
        args.support,
        keypoints,
        queries,
        support_bboxes=bboxes,
        return_heatmaps=args.show_maps)
    num_kpts = results[0].pred_instances.keypoints.shape[1]
    if args.skeleton:
        skeleton = skeleton_zero_based(parse_skeleton(args.skeleton), num_kpts)
    if len(names) != num_kpts:
        names = []
    os.makedirs(args.save_dir, exist_ok=True)
    summary = []
    for path, name, res in zip(queries, unique_stems(queries), results):
        img = load_image(path, 'query image')
        kpts = res.pred_instances.keypoints[0]
        scores = res.pred_instances.keypoint_scores[0]
        written = [
            save_rgb(
                draw_keypoints(
                    img,
                    kpts,
                    skeleton=skeleton,
                    show_kpt_idx=args.show_kpt_idx),
                osp.join(args.save_dir, f'{name}_pred.png'))
        ]
        if args.show_maps:
            meta = res.metainfo
            crop = crop_image(img, meta['input_center'], meta['input_scale'],
                              meta['input_size'])
            maps = np.asarray(res.pred_fields.heatmaps.cpu())
            written.append(
                save_rgb(
                    draw_maps_grid(crop, maps, names or None),
                    osp.join(args.save_dir, f'{name}_maps.png')))
        summary.append(
            dict(
                query=path,
                keypoints=np.round(kpts, 2).tolist(),
                scores=np.round(scores, 4).tolist(),
                files=written))
    out = osp.join(args.save_dir, 'predictions.json')
    from mmppm.utils.atomic_io import atomic_write_json
    atomic_write_json(
        out,
        dict(keypoint_names=names, skeleton=skeleton, queries=summary),
        indent=1)
    return summary


def main(argv=None):
    args = parse_args(argv)
    import mmppm  # noqa: F401  (registers modules; before mmpose.models)
    from mmppm.utils.errors import UserError
    try:  # the user's mistakes in one line; bugs keep their traceback
        summary = run(args)
    except UserError as e:
        sys.exit(f'error: {e}')
    for item in summary:
        print(f'{item["query"]} -> {", ".join(item["files"])}')
    print(f'predictions: {osp.join(args.save_dir, "predictions.json")}')
    return summary


if __name__ == '__main__':
    from mmppm.engine.cli import run_tool
    run_tool(main)
