# Copyright (c) mmppm contributors. All rights reserved.
"""``argparse`` ``type=`` converters that check ranges, shared by the tools.

``parser.add_argument('--steps', type=positive_int)``: a value out of range
(``--steps -3``, ``--sustained-tflops 0``, ``--lr nan``) stops the tool
before any work, with argparse's usage line and one ``error: argument
--steps: ...`` line naming what is allowed. The checks are those of the
config values (:mod:`mmppm.utils.value_checks`).
"""
import argparse
from typing import Callable

from mmppm.utils import value_checks


def range_type(parse: Callable[[str], object], check: Callable[[object], bool],
               allowed: str, name: str) -> Callable[[str], object]:
    """An argparse ``type=`` that parses with ``parse`` and accepts what
    ``check`` accepts.

    Args:
        parse (Callable): ``int`` or ``float``.
        check (Callable): ``check(value) -> bool``.
        allowed (str): What is allowed, for the message.
        name (str): The converter's name (argparse shows it on a parse
            failure of its own).

    Returns:
        Callable: ``convert(text) -> value``; raises
        ``argparse.ArgumentTypeError`` naming the text and ``allowed``.
    """

    def convert(text: str):
        try:
            value = parse(text)
        except (TypeError, ValueError):
            value = None
        if value is None or not check(value):
            raise argparse.ArgumentTypeError(
                f'{text!r} is not allowed: give {allowed}')
        return value

    convert.__name__ = name
    return convert


positive_int = range_type(int, value_checks.positive_int, 'an integer >= 1',
                          'positive_int')
non_negative_int = range_type(int, value_checks.non_negative_int,
                              'an integer >= 0', 'non_negative_int')
positive_float = range_type(float, value_checks.positive_number,
                            'a finite number > 0', 'positive_float')
non_negative_float = range_type(float, value_checks.non_negative_number,
                                'a finite number >= 0', 'non_negative_float')
