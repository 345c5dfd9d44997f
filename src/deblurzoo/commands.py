"""The console scripts (``[project.scripts]`` in ``pyproject.toml``).

Each parses its command line before it imports the module that does the work, so ``--help``
answers without loading torch, Lightning or wandb (:func:`deblurzoo.utils.cli.hydra_command`).
``python -m deblurzoo.<module>`` runs the same command.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from deblurzoo.utils.cli import hydra_command, user_errors_reported

#: ``deblurzoo-train``: train a model, then score its best checkpoint (``conf/train.yaml``).
train = hydra_command("train", "deblurzoo.train:main")
#: ``deblurzoo-eval``: score a checkpoint on a test split (``conf/eval.yaml``).
evaluate = hydra_command("eval", "deblurzoo.eval:main")
#: ``deblurzoo-infer``: deblur a video or a frame folder (``conf/infer.yaml``).
infer = hydra_command("infer", "deblurzoo.infer:main")
#: ``deblurzoo-zoo``: the table of the registered models (``conf/zoo.yaml``).
zoo = hydra_command("zoo", "deblurzoo.zoo:main")
#: ``deblurzoo-bench``: the benchmarks document (``conf/bench.yaml``).
bench = hydra_command("bench", "deblurzoo.bench:main")
#: ``deblurzoo-blur-transfer``: blur frames with a kernel-space model's kernel of a source pair.
blur_transfer = hydra_command("blur_transfer", "deblurzoo.kernel_space.transfer:main")
#: ``python -m deblurzoo.kernel_space.warm_start``: warm against cold starts of kernel-space
#: deblurring.
warm_start = hydra_command("warm_start", "deblurzoo.kernel_space.warm_start:main")


def convert(argv: list[str] | None = None) -> None:
    """``deblurzoo-convert``: an official checkpoint as a weights file
    (:func:`deblurzoo.conversion.convert`)."""
    parser = argparse.ArgumentParser(
        prog="deblurzoo-convert",
        description="Convert an official checkpoint of a model's authors into a deblurzoo "
        "weights file (safetensors, with the model and its options in the metadata). A "
        "file-to-file tool with nothing to compose, so it takes plain arguments, not Hydra "
        "overrides.",
    )
    parser.add_argument("source", type=Path, help="the checkpoint as its authors distribute it")
    parser.add_argument("output", type=Path, help="the weights file to write (.safetensors)")
    parser.add_argument("--model", help="the registered model, where the format is ambiguous")
    parser.add_argument(
        "--trust",
        nargs="+",
        default=[],
        metavar="MODULE.NAME",
        help="objects the file may hold beyond tensors, which you trust to be unpickled "
        "(e.g. argparse.Namespace); refused otherwise",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    args = parser.parse_args(argv)
    from deblurzoo import conversion  # torch and every model: not for --help

    with user_errors_reported():
        converted = conversion.convert(
            args.source, args.output, args.model, args.trust, args.overwrite
        )
    options = " ".join(f"{k}={v}" for k, v in converted.options.items())
    print(f"{args.output}: {converted.name} {options}".rstrip())
