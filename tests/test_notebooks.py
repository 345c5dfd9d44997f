"""The notebooks run top to bottom (papermill, smoke mode: tiny data and model, CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

papermill = pytest.importorskip("papermill")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.notebook
def test_quickstart_runs_in_smoke_mode(tmp_path: Path) -> None:
    executed = tmp_path / "quickstart.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "quickstart.ipynb"),
        str(executed),
        parameters={
            "smoke": True,
            "max_epochs": 1,
            "output_dir": str(tmp_path / "run"),
            "data_dir": str(tmp_path / "data"),
        },
        kernel_name="python3",
        cwd=str(tmp_path),
    )
    text = executed.read_text()
    assert "test PSNR gain over the blurry input" in text
    assert (tmp_path / "run" / "metrics.json").is_file()


@pytest.mark.notebook
def test_rirn_ablation_runs_in_smoke_mode(tmp_path: Path) -> None:
    executed = tmp_path / "rirn_ablation.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "rirn_ablation.ipynb"),
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
    assert len(list((tmp_path / "runs").glob("*/metrics.json"))) == 20
    assert "beats the bare host for" in executed.read_text()
