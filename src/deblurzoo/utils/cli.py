"""What every command shares: a Hydra main that imports its job only to run it, and expected
errors reported as their message alone.

A command's module (``deblurzoo.train``: Lightning, torch, wandb...) is imported once Hydra has
parsed the command line and composed the config, so ``--help``, ``--cfg`` and a mistyped
override answer in about a second.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

import hydra
from hydra.errors import InstantiationException
from omegaconf import DictConfig

from deblurzoo.conf import CONFIG_DIR
from deblurzoo.errors import UserError


def _user_error(error: BaseException) -> UserError | None:
    """``error`` if it is a :class:`UserError`, or the one Hydra's ``instantiate`` wrapped."""
    while isinstance(error, InstantiationException) and error.__cause__ is not None:
        error = error.__cause__
    return error if isinstance(error, UserError) else None


@contextmanager
def user_errors_reported() -> Iterator[None]:
    """Print ``<command>: error: <message>`` on stderr and exit with status 1 when the block
    raises a :class:`deblurzoo.errors.UserError` (also one raised in a config's ``_target_``);
    with ``HYDRA_FULL_ERROR=1`` it is raised, traceback and all, as every other exception is."""
    try:
        yield
    except Exception as error:
        user_error = _user_error(error)
        if user_error is None or os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"{Path(sys.argv[0]).name}: error: {user_error}", file=sys.stderr)
        raise SystemExit(1) from None


def _job_module(name: str) -> ModuleType:
    """The module ``name``, or ``__main__`` where that is it (``python -m <name>``), so that the
    module is not run a second time under its own name."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return main if spec is not None and spec.name == name else import_module(name)


def hydra_command(config_name: str, job: str) -> Callable[[], Any]:
    """The command that composes ``conf/<config_name>.yaml`` with the command-line overrides and
    runs ``job`` (``"module:function"``, called with the config; what it returns goes to the
    sweeper) in its own Hydra job, reporting expected errors as :func:`user_errors_reported`
    does. The module is imported when the job starts, not before."""
    module, _, function = job.partition(":")

    def task(cfg: DictConfig) -> Any:
        with user_errors_reported():
            return getattr(_job_module(module), function)(cfg)

    task.__module__ = module  # Hydra names the job after it: hydra.job.name, <name>.log
    return hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name=config_name)(task)
