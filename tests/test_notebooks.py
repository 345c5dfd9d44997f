"""The notebooks run top to bottom (papermill, smoke mode: tiny data and models, CPU), and their
outputs, saved or fresh, read well: tables as DataFrames, no console markup."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

papermill = pytest.importorskip("papermill")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

#: What reads badly in a saved notebook: ANSI escape codes (rich's console, progress bars), the
#: ``install "ipywidgets"`` warning of a progress bar outside Jupyter's widgets, box drawing (rich
#: tables such as Lightning's model summary and test metrics).
CLUTTER = re.compile(r"\x1b\[|ipywidgets|[\u2500-\u257f]")


def clutter(notebook: dict[str, Any]) -> list[tuple[int, str]]:
    """``(cell index, first match)`` of every output of ``notebook`` (stream, text or HTML) that
    holds :data:`CLUTTER`."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts = output.get("text", ""), data.get("text/plain", ""), data.get("text/html", "")
            match = CLUTTER.search("\n".join("".join(part) for part in parts))
            if match:
                found.append((index, match.group()))
    return found


def test_clutter_finds_a_rich_table_and_the_widget_warning() -> None:
    outputs = [
        {"output_type": "stream", "name": "stderr", "text": 'UserWarning: install "ipywidgets"'},
        {"output_type": "display_data", "data": {"text/plain": ["┏━━━┓\n", "\x1b[1mTest"]}},
        {"output_type": "execute_result", "data": {"text/html": "<table><td>31.2</td></table>"}},
    ]
    cells = [{"cell_type": "markdown", "source": "┏━━━┓"}, {"outputs": outputs}]
    assert clutter({"cells": cells}) == [(1, "ipywidgets"), (1, "┏")]


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda path: path.name)
def test_saved_notebooks_read_well(path: Path) -> None:
    assert not clutter(json.loads(path.read_text()))


def _execute(name: str, tmp_path: Path) -> str:
    """Run ``notebooks/<name>`` in smoke mode into ``tmp_path``; return the executed notebook,
    whose outputs must read well (:func:`clutter`)."""
    executed = tmp_path / name
    papermill.execute_notebook(
        str(NOTEBOOKS / name),
        str(executed),
        parameters={
            "smoke": True,
            "max_epochs": 1,
            "output_dir": str(tmp_path / "runs"),
            "data_dir": str(tmp_path / "data"),
        },
        kernel_name="python3",
        cwd=str(tmp_path),
    )
    text = executed.read_text()
    assert not clutter(json.loads(text))
    return text


@pytest.mark.notebook
def test_quickstart_runs_in_smoke_mode(tmp_path: Path) -> None:
    executed = _execute("quickstart.ipynb", tmp_path)
    assert "test PSNR gain over the blurry input" in executed
    assert "psnr_frame</th>" in executed  # the scores as a DataFrame
    assert (tmp_path / "runs" / "metrics.json").is_file()


@pytest.mark.notebook
def test_rirn_ablation_runs_in_smoke_mode(tmp_path: Path) -> None:
    executed = _execute("rirn_ablation.ipynb", tmp_path)
    assert "beats the bare host for" in executed
    assert "Table S6: 40 published scores of 5 hosts" in executed  # read from the RIRN spec
    assert len(list((tmp_path / "runs").glob("*/metrics.json"))) == 20


@pytest.mark.notebook
def test_mlfa_ablation_runs_in_smoke_mode(tmp_path: Path) -> None:
    executed = _execute("mlfa_ablation.ipynb", tmp_path)
    assert "Table 2 layout: 7 of 7 rows" in executed
    assert "(b) one atrous block: 11×11 footprint, 8 holes" in executed
    # five training runs and the two self-ensemble evaluations
    assert len(list((tmp_path / "runs").glob("*/metrics.json"))) == 7


@pytest.mark.notebook
def test_memdeblur_ablation_runs_in_smoke_mode(tmp_path: Path) -> None:
    assert "memory on beats memory off" in _execute("memdeblur_ablation.ipynb", tmp_path)
    # Table 4's five runs plus Table 7's T1 = 1 and 3 (its T1 = 5 row is Table 4's memory row)
    assert len(list((tmp_path / "runs").glob("*/metrics.json"))) == 7
    assert (tmp_path / "runs" / "attention.png").is_file()
    attention = json.loads((tmp_path / "runs" / "attention_statistics.json").read_text())
    assert attention["reads"] > 0 and attention["key_norm"] > 0
    for share in ("entropy_fraction", "largest_weight", "strongest_near_query"):
        assert 0 <= attention[share] <= 1, share


@pytest.mark.notebook
def test_kernel_space_runs_in_smoke_mode(tmp_path: Path) -> None:
    executed = _execute("kernel_space.ipynb", tmp_path)
    assert "encoding fidelity on 12 held-out pairs" in executed
    assert "blur transfer: synthetic_000 frame 3 -> synthetic_001" in executed
    assert "deblurred (best iterate, step" in executed
    for figure in ("blur_transfer.png", "deblur_by_optimisation.png"):
        assert (tmp_path / "runs" / figure).is_file()
