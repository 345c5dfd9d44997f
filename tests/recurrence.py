"""A check shared by the recurrent hosts' tests: causal in time, and stateful."""

from __future__ import annotations

import torch
from torch import nn


def assert_causal_and_recurrent(net: nn.Module, seed: int = 0) -> None:
    """On a 4-frame clip, changing frame 2 leaves outputs 0–1 bit-identical (causal) and changes
    output 3 (which sees frame 2 only through the carried state)."""
    torch.manual_seed(seed)
    blur = torch.rand(1, 4, 3, 16, 16)
    changed = blur.clone()
    changed[:, 2] = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        a, b = net.eval()(blur), net(changed)
    assert torch.equal(a[:, :2], b[:, :2])
    assert not torch.allclose(a[:, 3], b[:, 3])
