"""Expected errors: what the user asked for cannot work, and the message says why and what to do.

The commands print such an error as its message alone, on stderr, and exit with status 1
(:func:`deblurzoo.utils.cli.user_errors_reported`; ``HYDRA_FULL_ERROR=1`` shows the traceback
too). Any other exception is a bug and keeps its traceback. Each class also derives from the
built-in error it refines, so ``except ValueError`` and the like still catch it.
"""

from __future__ import annotations


class UserError(Exception):
    """An error in the command's input (a setting, a file, a name), not in the code."""

    def __str__(self) -> str:
        # The message as given, also for the KeyError kinds, which would quote it.
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class ConfigError(UserError, ValueError):
    """A setting (an override, an argument) that cannot work; the message names the setting and
    what to give instead."""


class PathNotFoundError(UserError, FileNotFoundError):
    """A file or folder that a setting names does not exist; the message names the setting."""


class UnknownNameError(UserError, KeyError):
    """A name that names nothing registered (a model, a host net); the message lists the names."""
