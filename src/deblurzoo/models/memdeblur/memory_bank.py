"""MemDeblur's key–value memory bank: write (Eq. 4), affinity (Eq. 5), softmax (Eq. 6), readout
(Eq. 7) — Ji & Yao, "Multi-Scale Memory-Based Video Deblurring", CVPR 2022, Sec. 3.2.

The bank is per-forward state, not a module: it holds no parameters and nothing of it is saved.
Memories are stored write by write, each flattened to its locations (row-major on its key grid); a
read concatenates every stored location (of every write, so keys written at different scales are
matched together, Sec. 3.4) along one memory axis.
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
#: How ``max_writes`` bounds a bank (:class:`MemoryBank`).
BOUNDS = ("writes", "locations")


@dataclass(frozen=True)
class AttentionRecord:
    """One read of a bank: ``weights[b, n, q]`` is the attention of query location ``q`` (row
    major on ``query_size``) on memory location ``n``; ``memory`` lists, in the order of ``n``,
    the label, key grid and number of kept locations of every stored write (the last ones of
    its grid, row-major: all of them unless ``bound="locations"`` cut the write)."""

    bank: str
    query: Any
    query_size: tuple[int, int]
    memory: tuple[tuple[Any, tuple[int, int], int], ...]
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
        max_writes: bound the bank (Sec. 4.1: "a maximum of five recent frames in the memory");
            ``None`` keeps everything.
        top_k: normalise only over the ``top_k`` most similar locations, the rest weigh zero
            (the released code does this at test time with k = 20); ``None`` uses every location.
        bound: what ``max_writes`` counts. ``"writes"`` (the paper): the most recent writes.
            ``"locations"`` (the released code): after every write, the ``max_writes × h·w``
            most recent locations, ``h·w`` the grid of the write just made; where scales share
            the bank this keeps more of the smaller coarse writes, and it may keep only the
            last locations of the oldest write.
    """

    name: str = "memory"
    similarity: str = "l2"
    max_writes: int | None = None
    top_k: int | None = None
    bound: str = "writes"
    keys: list[Tensor] = field(default_factory=list)
    """Per write, its key's locations ``[B, C_k, n]``."""
    values: list[tuple[Tensor, ...]] = field(default_factory=list)
    """Per write, its values' locations ``[B, C_v, n]``."""
    labels: list[Any] = field(default_factory=list)
    grids: list[tuple[int, int]] = field(default_factory=list)
    """Per write, the key grid ``(h, w)`` it was written on."""
    temporary: tuple[Tensor, tuple[Tensor, ...], Any] | None = None
    """One extra (key, values, label) replaced at every frame (STM's temporary memory, Table 5
    'Temp.'), as given: ``[B, C, h, w]``."""

    def __post_init__(self) -> None:
        if self.similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}, got {self.similarity!r}")
        if self.bound not in BOUNDS:
            raise ValueError(f"bound must be one of {BOUNDS}, got {self.bound!r}")
        if self.max_writes is not None and self.max_writes < 1:
            raise ValueError(f"max_writes must be at least 1 or None, got {self.max_writes}")

    def __len__(self) -> int:
        return len(self.keys)

    def write(self, key: Tensor, values: tuple[Tensor, ...], label: Any = None) -> None:
        """Append one memory (Eq. 4), then drop what ``max_writes`` does not keep."""
        self.keys.append(key.flatten(2))
        self.values.append(tuple(value.flatten(2) for value in values))
        self.labels.append(label)
        self.grids.append(tuple(key.shape[-2:]))
        if self.max_writes is None:
            return
        if self.bound == "writes":
            for stored in (self.keys, self.values, self.labels, self.grids):
                del stored[: -self.max_writes]
            return
        excess = sum(k.shape[2] for k in self.keys) - self.max_writes * self.keys[-1].shape[2]
        while excess >= self.keys[0].shape[2]:
            excess -= self.keys[0].shape[2]
            del self.keys[0], self.values[0], self.labels[0], self.grids[0]
        if excess > 0:
            self.keys[0] = self.keys[0][..., excess:]
            self.values[0] = tuple(value[..., excess:] for value in self.values[0])

    def _stored(self) -> list[tuple[Tensor, tuple[Tensor, ...], Any, tuple[int, int]]]:
        """Every readable write: (key, values, label, grid), keys and values flattened."""
        stored = list(zip(self.keys, self.values, self.labels, self.grids, strict=True))
        if self.temporary is not None:
            key, values, label = self.temporary
            flat = tuple(value.flatten(2) for value in values)
            stored.append((key.flatten(2), flat, label, tuple(key.shape[-2:])))
        return stored

    def attention(self, query: Tensor) -> Tensor:
        """``W`` of Eq. 6 for a query key ``[B, C_k, h, w]``: ``[B, N_memory, h·w]``, each column
        a distribution over the memory locations.

        Eq. 6 writes the ``1/√C_k`` of scaled dot-product attention (its ref. [26]) outside the
        softmax; read as in [26] and in the released code, it scales the affinity inside it.
        """
        memory = torch.cat([key for key, *_ in self._stored()], dim=2)  # B, C_k, N
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
                tuple((lab, grid, key.shape[2]) for key, _, lab, grid in stored),
                weights.detach().cpu(),
            )
            for observer in _observers:
                observer(record)
        return tuple(
            (torch.cat([v[i] for _, v, *_ in stored], dim=2) @ weights).unflatten(2, size)
            for i in range(len(stored[0][1]))
        )
