# Copyright (c) mmppm contributors. All rights reserved.
"""The errors a user can fix, told apart from bugs; every class in one place.

A :class:`UserError` says what is wrong with something the user gave (a
config value, a path, an annotation file, an image) and how to fix it;
tools print it as one line (:func:`mmppm.engine.cli.run_tool`), the web
page as its message. Anything else -- a ``ValueError`` or ``KeyError``
from a bug included -- keeps its traceback. The classes subclass the
builtin types a caller would expect (``ValueError``, ``FileNotFoundError``),
so ``except ValueError`` still catches them::

    UserError (ValueError)
    ├── MissingFileError (FileNotFoundError)
    │   └── SDWeightsNotFoundError
    ├── RefusedOverwriteError (FileExistsError)
    ├── ConfigError
    ├── ToolError
    └── PageError

:func:`first_line` is the one line of any exception that a message quotes.
"""


class UserError(ValueError):
    """A mistake in the user's input, with the fix in its message."""


class MissingFileError(UserError, FileNotFoundError):
    """A file or folder the user named does not exist."""


class SDWeightsNotFoundError(MissingFileError):
    """Stable Diffusion weights could not be found or loaded."""


class RefusedOverwriteError(UserError, FileExistsError):
    """A file the tool did not create is in the way; it is left as it is."""


class ConfigError(UserError):
    """A config value a user can fix; reported in one line."""


class ToolError(UserError):
    """A user error a tool reports in one line (no traceback)."""


class PageError(UserError):
    """A message for the person using the web page (shown, never a
    trace)."""


def first_line(err: BaseException) -> str:
    """The first non-blank line of an exception's message, stripped
    (``''`` for an empty message): what a one-line report quotes of an
    error raised by other code (torch, PIL, diffusers), whose messages may
    run over many lines."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else ''
