"""The Hydra configs of deblurzoo's commands, importable as the package ``deblurzoo.conf``.

This is the repository's ``conf/`` folder; ``pyproject.toml`` maps the package onto it, so the
configs ship in the wheel and an editable install reads them here. Code finds them through
:data:`CONFIG_DIR`, in either install.
"""

from pathlib import Path

#: The folder of the configs (``train.yaml``, ``eval.yaml``, ... and their groups).
CONFIG_DIR = str(Path(__file__).resolve().parent)
