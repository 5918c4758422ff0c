# Copyright (c) mmppm contributors. All rights reserved.
"""Draw instances of the look-alike toy world with each keypoint's kind
(docs/figures/lookalike_world.png, docs/toy_benchmark.md).

Example:
    python tools/misc/lookalike_figure.py --data-dir \\
        data/toy_lookalike_bench/seed0 --out docs/figures/lookalike_world.png
"""
import argparse
import io
import json
import os.path as osp

from mmppm.engine.cli import require_file, run_tool

#: Label colour per kind; twins are labelled L / R, the others by initial.
COLOURS = dict(
    twin=(255, 255, 255),
    morph=(255, 0, 255),
    unmarked=(0, 0, 0),
    other=(0, 200, 0))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data-dir', default='data/toy_lookalike_bench/seed0')
    parser.add_argument('--categories', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--instances', type=int, default=4)
    parser.add_argument('--side', type=int, default=224)
    parser.add_argument('--out', default='docs/figures/lookalike_world.png')
    args = parser.parse_args(argv)
    ann = osp.join(args.data_dir, 'annotations', 'mp100_split1_test.json')
    require_file(
        ann, 'look-alike test annotations (generate them with '
        'tools/dataset_converters/generate_toy_mp100.py --preset '
        'lookalike)')
    from PIL import Image, ImageDraw

    from mmppm.utils.atomic_io import atomic_write
    from mmppm.utils.image_decoder import decode_image
    with open(ann, encoding='utf-8') as f:
        data = json.load(f)
    images = {i['id']: i for i in data['images']}
    rows = []
    for index in args.categories:
        cat = data['categories'][index]
        anns = [
            a for a in data['annotations'] if a['category_id'] == cat['id']
        ][:args.instances]
        tiles = []
        for a in anns:
            path = osp.join(args.data_dir, 'images',
                            images[a['image_id']]['file_name'])
            img = Image.fromarray(
                decode_image(path, 'toy image')[..., ::-1].copy())
            draw = ImageDraw.Draw(img)
            k = a['keypoints']
            for i, (name, kind) in enumerate(
                    zip(cat['keypoints'], cat['keypoint_kinds'])):
                if k[3 * i + 2] > 0:
                    label = name[0].upper() if name.startswith(
                        ('left ', 'right ')) else kind[0]
                    draw.text((k[3 * i] + 4, k[3 * i + 1] - 6),
                              label,
                              fill=COLOURS[kind])
            draw.text((4, 4),
                      f"{cat['name']}, morph {a['morph']}",
                      fill=(255, 255, 255))
            tiles.append(img.resize((args.side, args.side)))
        rows.append(tiles)
    sheet = Image.new('RGB',
                      (args.side * args.instances, args.side * len(rows)))
    for r, tiles in enumerate(rows):
        for c, tile in enumerate(tiles):
            sheet.paste(tile, (c * args.side, r * args.side))
    buffer = io.BytesIO()
    sheet.quantize(colors=128).save(buffer, format='PNG', optimize=True)
    atomic_write(args.out, buffer.getvalue())
    print(args.out)


if __name__ == '__main__':
    run_tool(main)
