"""Make the ESTRNN converter fixtures (tests/fixtures/estrnn/) from the authors' own code.

Usage::

    git --git-dir=<mirror of zzh-tech/ESTRNN> archive HEAD | tar -x -C /tmp/estrnn
    .venv/bin/python tools/estrnn_fixture.py /tmp/estrnn [--out tests/fixtures/estrnn]

For each configuration (B9C80, B15C80) this builds the authors' ``model.Model`` from their
``para`` defaults (with ``--n_blocks``/``--n_features`` set), wrapped in ``nn.DataParallel``
as their trainer does, fills it with the deterministic weights of
``tests/fixtures/authors_weights.py`` (from each key's name and shape), saves it in their
checkpoint format (``train/dp.py``: epoch, model, state_dict, register_dict, optimizer,
scheduler) to check that ``torch.load(weights_only=True)`` reads it, runs their eval-mode
forward on a fixed 1×7×3×32×32 clip of 0–255 BGR frames normalised as their test code does
(``(u − 127.5)/255``) and writes:

* ``<config>_keys.json``: the checkpoint's top-level keys and its state dict's key list
  (name → shape, dtype, gain), from which the test rebuilds the identical checkpoint;
* ``<config>_io.safetensors``: ``input`` (the uint8 BGR clip) and ``output`` (their output,
  BGR, in their normalised scale, i.e. restored/255 − 0.5), float32.

Nothing of the authors' code is copied or installed: their repository is put on ``sys.path``
while this tool runs, with their unused ``thop`` import stubbed, and their ``cuda`` device
replaced by the CPU after the model is built.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.fixtures.authors_weights import authors_state_dict, describe  # noqa: E402

CONFIGS = {"b9c80": (9, 16), "b15c80": (15, 16)}
FRAMES, SIZE = 7, 32


def gain(name: str) -> float:
    """Damp the residual branches of the RDBs (their conv 1×1) so that the 9–15 RDBs in series
    keep activations of order one."""
    return 0.3 if name.endswith("conv1x1.weight") and ".RDBs." in name else 1.0


def authors_model(checkout: Path, n_blocks: int, n_features: int) -> nn.Module:
    """Their ``nn.DataParallel(model.Model(para))`` for the configuration, on the CPU."""
    sys.modules.setdefault("thop", types.SimpleNamespace(profile=None))
    sys.path.insert(0, str(checkout))
    try:
        from model import Model  # their model/model.py
        from para import Parameter  # their para/parameter.py

        argv = sys.argv
        sys.argv = ["main.py", "--n_blocks", str(n_blocks), "--n_features", str(n_features)]
        try:
            para = Parameter().args
        finally:
            sys.argv = argv
        net = Model(para)
    finally:
        sys.path.remove(str(checkout))
    net.model.device = torch.device("cpu")  # their forward puts the state on para's cuda
    return nn.DataParallel(net)


def clip() -> torch.Tensor:
    """The fixed 0–255 BGR clip ``[1, FRAMES, 3, SIZE, SIZE]``, uint8: a smooth pattern plus
    noise, so every frame differs."""
    gen = torch.Generator().manual_seed(2020)
    t = torch.arange(FRAMES).view(1, FRAMES, 1, 1, 1).double()
    c = torch.arange(3).view(1, 1, 3, 1, 1).double()
    y = torch.arange(SIZE).view(1, 1, 1, SIZE, 1).double()
    x = torch.arange(SIZE).view(1, 1, 1, 1, SIZE).double()
    base = 127.5 + 80 * torch.sin(0.3 * x + 0.2 * y + 0.7 * t + 2.0 * c)
    noise = 30 * torch.rand(1, FRAMES, 3, SIZE, SIZE, generator=gen, dtype=torch.float64) - 15
    return (base + noise).round().clamp(0, 255).to(torch.uint8)


def make(checkout: Path, out: Path, config: str) -> None:
    n_blocks, n_features = CONFIGS[config]
    model = authors_model(checkout, n_blocks, n_features)
    keys = describe(model.state_dict(), gain)
    model.load_state_dict(authors_state_dict(keys))
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=500, eta_min=1e-8)
    checkpoint = {
        "epoch": 1,
        "model": "ESTRNN",
        "state_dict": model.state_dict(),
        "register_dict": {"PSNR_valid": {1: 20.0, "max": 20.0, "min": 20.0}},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
    }
    path = Path("/tmp") / f"ESTRNN_{config}_fixture.tar"
    torch.save(checkpoint, path)
    torch.load(path, map_location="cpu", weights_only=True)  # their format needs no --trust
    blur = clip()
    model.eval()
    with torch.no_grad():
        inputs = (blur.float() - 255.0 / 2) / 255.0  # their normalize(centralize, normalize)
        output = model([inputs])  # their model.Model.forward(iter_samples)
    params = sum(p.numel() for p in model.parameters())
    (out / f"{config}_keys.json").write_text(
        json.dumps(
            {
                "source": "zzh-tech/ESTRNN model/ESTRNN.py via tools/estrnn_fixture.py",
                "config": {"n_blocks": n_blocks, "n_features": n_features},
                "params": params,
                "checkpoint": list(checkpoint),
                "state_dict": keys,
            },
            indent=1,
        )
        + "\n"
    )
    save_file(
        {"input": blur.contiguous(), "output": output.float().contiguous()},
        str(out / f"{config}_io.safetensors"),
    )
    print(
        f"{config}: {params} parameters, output {tuple(output.shape)} in "
        f"[{output.min():.3f}, {output.max():.3f}], std {output.std():.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="an extracted zzh-tech/ESTRNN tree")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "estrnn")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    for config in args.configs:
        make(args.checkout, args.out, config)


if __name__ == "__main__":
    main()
