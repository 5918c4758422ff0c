# Copyright (c) mmppm contributors. All rights reserved.
"""A local web page for few-shot keypoints on your own images.

Click keypoints on one or more support images, upload query images, press
Run: the page fits one prompt per keypoint (PPM) and shows the keypoints found
in every query with each keypoint's attention map (docs/webui.md).

Offline, with the bundled toy diffusion model:
    python demo/webui.py configs/ppm/ppm_toy-sd_1shot_toy.py
then open http://127.0.0.1:7860. With a real Stable Diffusion add
``--cfg-options model.backbone.pretrained=runwayml/stable-diffusion-v1-5``
(a hub id or a local diffusers folder).
"""
import argparse
import logging
import os.path as osp
import sys

TOY_DATA = 'data/toy_mp100'


def parse_args(argv=None):
    from mmppm.engine.cli.args import CfgOptionsAction
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[1:]))
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        '--checkpoint',
        default=None,
        help='trained weights (PPM+CPT); plain PPM needs none')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument(
        '--host',
        default='127.0.0.1',
        help='address to listen on (default: this machine '
        'only)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--examples',
        default=None,
        metavar='DIR',
        help='images offered as query picks (default: the toy test images, '
        f'generated into {TOY_DATA} if absent)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        default={},
        help='config overrides, e.g. model.backbone.pretrained=PATH_OR_ID '
        'model.fitter.steps=100')
    return parser.parse_args(argv)


def default_examples() -> list:
    """The toy *test* categories' images, never seen by CPT (the toy data is
    generated, ~3 s, when absent)."""
    from mmppm.datasets import generate_toy_mp100, load_coco_json
    files = generate_toy_mp100(TOY_DATA, seed=0)
    data = load_coco_json(files['test'])
    return [
        osp.join(TOY_DATA, 'images', img['file_name'])
        for img in data['images']
    ]


def check_port_free(host: str, port: int) -> None:
    """One error before anything is loaded when the port is taken."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as e:
            sys.exit(f'error: cannot serve on {host}:{port} ({e.strerror}); '
                     'choose another port with --port')


def main(argv=None):
    args = parse_args(argv)
    import mmppm  # noqa: F401  (registers modules; before mmpose.models)
    from mmppm.apis import init_cape_model
    from mmppm.engine.cli import require_file
    try:
        import gradio  # noqa: F401
    except ImportError:
        sys.exit('error: the web page needs gradio: run tools/install.sh '
                 '(it installs requirements/webui.txt)')
    from mmppm.webui.app import MAX_UPLOAD, build_app, example_images
    logging.basicConfig(level=logging.INFO)
    logging.getLogger('httpx').setLevel(logging.WARNING)
    require_file(args.config, 'config file')
    if args.examples and not osp.isdir(args.examples):
        sys.exit(f'error: --examples folder not found: {args.examples}')
    check_port_free(args.host, args.port)
    model = init_cape_model(args.config, args.checkpoint, args.device,
                            args.cfg_options)
    examples = (
        example_images(args.examples, limit=48)
        if args.examples else default_examples()[:48])
    page = build_app(
        model, examples, title=f'mmppm -- {osp.basename(args.config)}')
    print(f'mmppm web page: http://{args.host}:{args.port}', flush=True)
    try:
        page.queue().launch(
            server_name=args.host,
            server_port=args.port,
            show_error=False,
            quiet=True,
            max_file_size=MAX_UPLOAD)
    except OSError as e:
        sys.exit(f'error: cannot serve on {args.host}:{args.port} ({e}); '
                 'choose another port with --port')


if __name__ == '__main__':
    from mmppm.engine.cli import run_tool
    run_tool(main)
