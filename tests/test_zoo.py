"""The zoo table: its counts against a hand count, and docs/models.md kept in step with the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from deblurzoo.models import list_models
from deblurzoo.zoo import document, measure

DOC = Path(__file__).resolve().parents[1] / "docs" / "models.md"


def test_ifirnn_macs_match_a_hand_count() -> None:
    """IFI-RNN C1H1 at 720×1280: MACs = in·out·k²·(input pixels) for every conv (Table S1)."""
    full, half, quarter = 720 * 1280, 360 * 640, 180 * 320
    macs = (
        3 * 20 * 25 * full + 20 * 40 * 25 * half + 40 * 60 * 25 * quarter  # F_B
        + 12 * 80 * 80 * 9 * quarter  # F_R: 6 ResBlocks
        + (80 * 20 * 9 + 3 * 20 * 20 * 9) * quarter  # F_h
        + 80 * 40 * 9 * quarter + 40 * 20 * 9 * half + 20 * 3 * 25 * full  # F_L
    )  # fmt: skip
    result = measure("ifirnn_c1h1")
    assert result.params == 836_623
    assert result.gmacs_per_frame == pytest.approx(macs / 1e9, rel=1e-9)


def test_windowed_models_are_counted_per_restored_frame() -> None:
    one = measure("strcnn", 64, 64)
    assert one.gmacs_per_frame == pytest.approx(measure("strcnn", 128, 128).gmacs_per_frame / 4)


def test_models_doc_is_up_to_date() -> None:
    rows = [measure(name) for name in list_models()]
    assert DOC.read_text() == document(rows, 720, 1280), "run: deblurzoo-zoo --write docs/models.md"
