"""MemDeblur's key–value memory bank: write (Eq. 4), affinity (Eq. 5), softmax (Eq. 6), readout
(Eq. 7) — Ji & Yao, "Multi-Scale Memory-Based Video Deblurring", CVPR 2022, Sec. 3.2.

The bank is per-forward state, not a module: it holds no parameters and nothing of it is saved.
Memories are stored write by write; a read concatenates every stored location (of every write, so
keys written at different scales are matched together, Sec. 3.4) along one memory axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

SIMILARITIES = ("l2", "dot")


@dataclass(frozen=True)
class AttentionRecord:
    """One read of a bank: ``weights[b, n, q]`` is the attention of query location ``q`` (row
    major on ``query_size``) on memory location ``n``; ``memory`` lists, in the order of ``n``,
    the label and key grid of every stored write."""

    bank: str
    query: Any
    query_size: tuple[int, int]
    memory: tuple[tuple[Any, tuple[int, int]], ...]
    weights: Tensor


_observers: list[Callable[[AttentionRecord], None]] = []


@contextmanager
def recorded_attention() -> Iterator[list[AttentionRecord]]:
    """Collect the attention of every bank read made inside the block (for Fig. 6-style
    pictures of where in which memory frame a query location looks)."""
    records: list[AttentionRecord] = []
    _observers.append(records.append)
    try:
        yield records
    finally:
        _observers.remove(records.append)


@dataclass
class MemoryBank:
    """Keys ``[B, C_k, h, w]`` with one or more values ``[B, C_v, h, w]`` each.

    Args:
        name: what the bank holds, for recorded attention (``"forward"``, ``"backward"``).
        similarity: ``d`` of Eq. 5, which the paper leaves open: ``"l2"`` is the released code's
            negative squared Euclidean distance (``2 k_p·q − ‖k_p‖²``; ``‖q‖²`` is constant over
            the memory and cancels in the softmax), ``"dot"`` the plain dot product.
        max_writes: keep only the most recent writes (Sec. 4.1: "a maximum of five recent frames
            in the memory"); ``None`` keeps all.
        top_k: normalise only over the ``top_k`` most similar locations, the rest weigh zero
            (the released code does this at test time with k = 20); ``None`` uses every location.
    """

    name: str = "memory"
    similarity: str = "l2"
    max_writes: int | None = None
    top_k: int | None = None
    keys: list[Tensor] = field(default_factory=list)
    values: list[tuple[Tensor, ...]] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)
    temporary: tuple[Tensor, tuple[Tensor, ...], Any] | None = None
    """One extra (key, values, label) replaced at every frame (STM's temporary memory, Table 5
    'Temp.')."""

    def __post_init__(self) -> None:
        if self.similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}, got {self.similarity!r}")

    def __len__(self) -> int:
        return len(self.keys)

    def write(self, key: Tensor, values: tuple[Tensor, ...], label: Any = None) -> None:
        """Append one memory (Eq. 4), dropping the oldest beyond ``max_writes``."""
        self.keys.append(key)
        self.values.append(values)
        self.labels.append(label)
        if self.max_writes is not None and len(self.keys) > self.max_writes:
            del self.keys[0], self.values[0], self.labels[0]

    def _stored(self) -> list[tuple[Tensor, tuple[Tensor, ...], Any]]:
        stored = list(zip(self.keys, self.values, self.labels, strict=True))
        return stored + ([self.temporary] if self.temporary is not None else [])

    def attention(self, query: Tensor) -> Tensor:
        """``W`` of Eq. 6 for a query key ``[B, C_k, h, w]``: ``[B, N_memory, h·w]``, each column
        a distribution over the memory locations.

        Eq. 6 writes the ``1/√C_k`` of scaled dot-product attention (its ref. [26]) outside the
        softmax; read as in [26] and in the released code, it scales the affinity inside it.
        """
        memory = torch.cat([key.flatten(2) for key, _, _ in self._stored()], dim=2)  # B, C_k, N
        affinity = memory.transpose(1, 2) @ query.flatten(2)  # B, N, HW
        if self.similarity == "l2":
            affinity = 2 * affinity - memory.square().sum(1).unsqueeze(2)
        affinity = affinity / math.sqrt(query.shape[1])
        if self.top_k is None or self.top_k >= affinity.shape[1]:
            return affinity.softmax(dim=1)
        top, index = affinity.topk(self.top_k, dim=1)
        return torch.zeros_like(affinity).scatter_(1, index, top.softmax(dim=1))

    def read(self, query: Tensor, label: Any = None) -> tuple[Tensor, ...]:
        """The memory values aggregated for every query location (Eq. 7), each
        ``[B, C_v, h, w]`` on the query's grid; every value shares one attention map."""
        weights = self.attention(query)
        stored = self._stored()
        size = tuple(query.shape[-2:])
        if _observers:
            record = AttentionRecord(
                self.name,
                label,
                size,
                tuple((lab, tuple(key.shape[-2:])) for key, _, lab in stored),
                weights.detach().cpu(),
            )
            for observer in _observers:
                observer(record)
        return tuple(
            (torch.cat([v[i].flatten(2) for _, v, _ in stored], dim=2) @ weights).unflatten(2, size)
            for i in range(len(stored[0][1]))
        )
