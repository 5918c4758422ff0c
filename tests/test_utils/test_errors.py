# Copyright (c) mmppm contributors. All rights reserved.
"""The user errors: one module, one hierarchy, the builtin types callers
expect, and the one line of an exception that messages quote."""
import pytest

from mmppm.utils import errors
from mmppm.utils.errors import (ConfigError, MissingFileError, PageError,
                                RefusedOverwriteError, SDWeightsNotFoundError,
                                ToolError, UserError, first_line)


@pytest.mark.parametrize('cls, builtins', [
    (UserError, (ValueError, )),
    (MissingFileError, (ValueError, FileNotFoundError)),
    (SDWeightsNotFoundError, (MissingFileError, FileNotFoundError)),
    (RefusedOverwriteError, (ValueError, FileExistsError)),
    (ConfigError, (ValueError, )),
    (ToolError, (ValueError, )),
    (PageError, (ValueError, )),
])
def test_every_user_error_is_caught_as_one_and_as_its_builtin(cls, builtins):
    """``run_tool`` and the web page catch ``UserError``; callers that
    expect ``ValueError`` / ``FileNotFoundError`` still catch theirs."""
    assert issubclass(cls, UserError)
    for base in builtins:
        assert issubclass(cls, base)


def test_the_classes_live_here_only():
    defined = {
        name
        for name, obj in vars(errors).items() if isinstance(obj, type)
        and issubclass(obj, Exception) and obj.__module__ == errors.__name__
    }
    assert defined == {
        'UserError', 'MissingFileError', 'SDWeightsNotFoundError',
        'RefusedOverwriteError', 'ConfigError', 'ToolError', 'PageError'
    }
    from mmppm.engine import cli
    from mmppm.utils import config_checks, sd_loading
    from mmppm.webui import app
    assert config_checks.ConfigError is ConfigError
    assert sd_loading.SDWeightsNotFoundError is SDWeightsNotFoundError
    assert app.PageError is PageError
    assert issubclass(ToolError, cli.user_errors())


@pytest.mark.parametrize('message, line', [
    ('one line', 'one line'),
    ('\n  first  \nsecond\n', 'first'),
    ('Error(s) in loading state_dict:\n\tMissing key(s): "w"',
     'Error(s) in loading state_dict:'),
    ('', ''),
    ('\n \n', ''),
])
def test_first_line(message, line):
    assert first_line(RuntimeError(message)) == line
