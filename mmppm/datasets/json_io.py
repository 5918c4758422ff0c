# Copyright (c) mmppm contributors. All rights reserved.
"""Reading JSON files with errors that name the file and the problem."""
import json
import os.path as osp

from mmppm.utils.errors import MissingFileError, UserError


def read_json_object(path: str, what: str = 'JSON file') -> dict:
    """Read a file holding one JSON object.

    Args:
        path (str): The file.
        what (str): What it is, for messages (``'Annotation file'``).

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: It is not JSON (or not UTF-8), or not an object.
    """
    if not osp.isfile(path):
        raise MissingFileError(f'{what} not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f'{what} {path} is not valid JSON: {e}') from None
    if not isinstance(data, dict):
        raise UserError(f'{what} {path} must hold a JSON object, got '
                        f'{type(data).__name__}')
    return data
