"""Starting up stays light: ``import deblurzoo``, ``list_models()`` and every console script's
``--help`` load none of the libraries that take seconds to import (``deblurzoo.__init__``
exports lazily, ``deblurzoo.commands`` imports a command's module only to run it)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import distribution

#: Libraries that take seconds to import; torch is one, but the model registry needs it.
HEAVY = ("lightning", "torchmetrics", "wandb", "timm", "torchvision", "kornia", "av", "skimage")

COMMANDS = {
    entry.name: entry.value
    for entry in distribution("deblurzoo").entry_points
    if entry.group == "console_scripts"
}


def _loaded_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has imported once it has run ``code``."""
    report = "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\n{report}"], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_importing_the_package_loads_no_heavy_library() -> None:
    loaded = _loaded_after("import deblurzoo; assert 'deblur_video' in deblurzoo.__all__")
    assert not loaded & {"torch", *HEAVY}


def test_listing_the_models_needs_torch_alone() -> None:
    loaded = _loaded_after("import deblurzoo; assert 'rirn' in deblurzoo.list_models()")
    assert "torch" in loaded
    assert not loaded & set(HEAVY)


def test_every_command_answers_help_without_torch() -> None:
    assert {"deblurzoo-train", "deblurzoo-zoo", "deblurzoo-convert"} <= set(COMMANDS)
    helps = "\n".join(
        f"sys.argv = [{name!r}, '--help']\n"
        f"try:\n    import_module({module!r}).{function}()\n"
        "except SystemExit as exit_:\n    assert exit_.code in (None, 0), exit_.code\n"
        "GlobalHydra.instance().clear()"
        for name, (module, function) in ((n, v.split(":")) for n, v in COMMANDS.items())
    )
    setup = "import sys\nfrom importlib import import_module\n"
    setup += "from hydra.core.global_hydra import GlobalHydra\n"
    loaded = _loaded_after(setup + helps)
    assert not loaded & {"torch", *HEAVY}
