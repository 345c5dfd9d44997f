"""The reproduction recipes ``deblurzoo-eval experiment=reproduce/<paper>_<dataset>``
(conf/experiment/reproduce/): each composes with its paper's protocol and names a table that
publishes a score for the models it is for, and one runs end to end on a converted checkpoint."""

from __future__ import annotations

import hydra
import pytest
from rich.console import Console

from deblurzoo.conversion import convert
from deblurzoo.eval import evaluate, published_score
from deblurzoo.utils.report import print_summary
from tests.conftest import compose_config
from tests.test_memdeblur_convert import _authors_file, authors_state, layout  # noqa: F401

#: recipe -> (eval preset, whole sequences?, the models it reproduces)
RECIPES = {
    "memdeblur_gopro_ds": ("memdeblur", True, ["memdeblur", "memdeblur_slim"]),
    "memdeblur_gopro": ("memdeblur", True, ["memdeblur"]),
    "estrnn_gopro_ds": ("estrnn", False, ["estrnn_b9c80", "estrnn_b9c90"]),
    "estrnn_gopro": ("estrnn", False, ["estrnn"]),
}


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_recipe_composes_with_its_papers_protocol(recipe, tmp_path, data_dir) -> None:
    preset, whole, models = RECIPES[recipe]
    overrides = [f"experiment=reproduce/{recipe}", "ckpt_path=x.safetensors", "data.root=/d"]
    cfg = compose_config("eval", tmp_path, data_dir, overrides)
    assert cfg.task_name == f"reproduce_{recipe}"
    assert (cfg.eval.ssim, cfg.eval.quantize) == ("skimage", "truncate")
    assert cfg.eval == compose_config("eval", tmp_path, data_dir, [f"eval={preset}"]).eval
    chunks = (cfg.data.eval_chunk_len, cfg.data.eval_chunk_overlap)
    assert chunks[0] is None if whole else chunks == (20, 4)  # whole sequences, or ESTRNN's
    assert cfg.data.layout._target_.endswith("GoproLayout")
    ds = recipe.endswith("_ds")
    assert list(cfg.data.frame_size or []) == ([540, 960] if ds else [])
    assert cfg.data.layout.blur_dir == ("blur_gamma" if ds else "blur")
    for model in models:
        score = published_score(model, cfg.published)
        assert score["dataset"].startswith("GOPRO, downsampled" if ds else "GOPRO, original")


def test_a_converted_memdeblur_is_scored_beside_table_1(
    authors_state,  # noqa: F811
    tmp_path,
    data_dir,
    capsys,
) -> None:
    """The authors' MemDeblur file, converted, through the Table 1 recipe on the synthetic
    GOPRO-layout frames (made small): our score printed beside 31.77 / 0.9275."""
    synthetic = compose_config("eval", tmp_path / "synthetic", data_dir, ["ckpt_path=x"]).data
    hydra.utils.instantiate(synthetic).prepare_data()  # the GOPRO_Large layout, under data_dir
    weights = tmp_path / "memdeblur_gopro_ds.safetensors"
    convert(_authors_file(tmp_path / "memdeblur_gopro_ds.pth.tar", authors_state), weights)
    overrides = [
        "experiment=reproduce/memdeblur_gopro_ds",
        f"ckpt_path={weights}",
        f"data.root={synthetic.root}",
        "data.frame_size=[48,64]",
        "logger=none",
    ]
    summary = evaluate(compose_config("eval", tmp_path / "eval", data_dir, overrides))
    assert summary["net"]["top_k"] == 20 and summary["net"]["memory_bound"] == "locations"
    assert summary["protocol"]["ssim"] == "skimage"
    assert (summary["published"]["psnr"], summary["published"]["ssim"]) == (31.77, 0.9275)
    assert 0 < summary["restored"]["psnr_frame"] < 100
    print_summary(summary, Console(width=200))
    assert "against MemDeblur Table 1 (GOPRO, downsampled 960×540" in capsys.readouterr().out
