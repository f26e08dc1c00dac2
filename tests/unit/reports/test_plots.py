"""Plots: valid non-trivial PNGs, written atomically, different when a second model is added."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from reports_testkit import make_result

from crossalign.errors import DataFormatError, MissingDependencyError
from crossalign.reports.compare import compare_results
from crossalign.reports.plots import (
    plot_all,
    plot_delta_heatmap,
    plot_grouped_bars,
    plot_heatmap,
    plot_max_rank_ecdf,
)

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check_png(path: Path, *, min_bytes: int = 15_000) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert len(data) > min_bytes, (path, len(data))
    import matplotlib.image

    img = matplotlib.image.imread(path)
    assert img.shape[:2] == (height, width)
    assert float(np.std(img[..., :3])) > 0.05  # not a blank canvas
    assert not list(path.parent.glob(".*.tmp")), "temporary files left behind"
    return width, height


@pytest.fixture(scope="module")
def results() -> tuple:
    return make_result("base", n=80), make_result("tuned", n=80, improve=0.8, seed=2)


def test_heatmap(tmp_path: Path, results: tuple) -> None:
    p = plot_heatmap(results[0], tmp_path / "heat.png")
    assert p == tmp_path / "heat.png"
    w, h = _check_png(p)
    assert w > h  # 4 directions wide, 2 languages high
    p2 = plot_heatmap(results[0], tmp_path / "heat_mrr", metric="mrr@10")  # suffix added
    assert p2.suffix == ".png" and p2.read_bytes() != p.read_bytes()
    with pytest.raises(DataFormatError, match="no retrieval task 'nope'"):
        plot_heatmap(results[0], tmp_path / "x.png", task="nope")


def test_two_model_plots_differ_from_one_model(tmp_path: Path, results: tuple) -> None:
    base, tuned = results
    one = plot_max_rank_ecdf([base], tmp_path / "ecdf1.png")
    two = plot_max_rank_ecdf([base, tuned], tmp_path / "ecdf2.png")
    _check_png(one)
    _check_png(two)
    assert one.read_bytes() != two.read_bytes()
    bars1 = plot_grouped_bars([base], tmp_path / "bars1.png")
    bars2 = plot_grouped_bars([base, tuned], tmp_path / "bars2.png")
    _check_png(bars2)
    assert bars1.read_bytes() != bars2.read_bytes()
    comp = compare_results([base, tuned], n_resamples=500)
    delta = plot_delta_heatmap([base, tuned], tmp_path / "delta.png", comparison=comp)
    _check_png(delta)
    plain = plot_delta_heatmap([base, tuned], tmp_path / "delta_plain.png")
    assert plain.read_bytes() != delta.read_bytes()  # the † marks and the legend
    with pytest.raises(DataFormatError, match="at least two"):
        plot_delta_heatmap([base], tmp_path / "d.png")


def test_ecdf_needs_per_query_max_rank(tmp_path: Path) -> None:
    bare = make_result("bare", n=20, per_query=False)
    with pytest.raises(DataFormatError, match=r"per_query\['max_rank'\]"):
        plot_max_rank_ecdf(bare, tmp_path / "e.png")
    assert not (tmp_path / "e.png").exists()


def test_plot_all_and_atomic_failure(tmp_path: Path, results: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    files = plot_all(list(results), tmp_path / "plots")
    names = sorted(f.path.name for f in files)
    assert names == [
        "bars_lo-sections_ndcg-10.png",
        "delta_lo-sections_ndcg-10.png",
        "heatmap_base_lo-sections_ndcg-10.png",
        "heatmap_tuned_lo-sections_ndcg-10.png",
        "max_rank_ecdf_lo-sections.png",
    ]
    assert all(f.caption for f in files)
    single = plot_all(results[0], tmp_path / "single")
    assert [f.path.name for f in single] == ["heatmap_base_lo-sections_ndcg-10.png", "max_rank_ecdf_lo-sections.png"]
    # a failure while rendering leaves the previous file untouched
    target = files[0].path
    before = target.read_bytes()
    from matplotlib.figure import Figure

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", boom)
    with pytest.raises(RuntimeError):
        plot_grouped_bars(list(results), target)
    assert target.read_bytes() == before


def test_without_matplotlib_plots_say_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=r"crossalign\[plots\]"):
        plot_heatmap(make_result("m", n=10), tmp_path / "h.png")


def test_one_direction_plots_do_not_clip_their_titles(tmp_path: Path) -> None:
    import matplotlib.image

    base, tuned = make_result("base", n=40, langs=("de",)), make_result("tuned", n=40, langs=("de",), seed=2)
    for r in (base, tuned):  # one language, one direction: the narrowest figures
        r.tasks = [t for t in r.tasks if t.suite == "retrieval" and (t.query_lang, t.doc_lang) == ("de", "en")]
    paths = [plot_heatmap(tuned, tmp_path / "heat.png"), plot_delta_heatmap([base, tuned], tmp_path / "delta.png")]
    for p in paths:
        img = matplotlib.image.imread(p)[..., :3]
        w = img.shape[1]
        # a title wider than the axes used to run off both edges; now the image holds it with a white margin
        for edge in (img[:, :3], img[:, w - 3 :], img[:3, :]):
            assert float(edge.min()) > 0.95, p
