# Copyright (c) mmppm contributors. All rights reserved.
"""The errors a user can fix, told apart from bugs.

A :class:`UserError` says what is wrong with something the user gave (a
config value, a path, an annotation file, an image) and how to fix it;
tools print it as one line (:func:`mmppm.utils.tool_helpers.run_tool`), the
web page as its message. Anything else -- a ``ValueError`` or ``KeyError``
from a bug included -- keeps its traceback. Both subclass the builtin types
a caller would expect (``ValueError``, ``FileNotFoundError``), so
``except ValueError`` still catches them.
"""


class UserError(ValueError):
    """A mistake in the user's input, with the fix in its message."""


class MissingFileError(UserError, FileNotFoundError):
    """A file or folder the user named does not exist."""


class RefusedOverwriteError(UserError, FileExistsError):
    """A file the tool did not create is in the way; it is left as it is."""
