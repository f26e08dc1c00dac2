"""Tables: values ×100 with half-up rounding, ranks as they are, directions from query_lang/doc_lang, n_queries."""

from __future__ import annotations

import pytest
from reports_testkit import make_result, result, task

from crossalign.evaluation.format import (
    direction_class,
    format_ci,
    format_delta,
    format_p,
    format_value,
    header_label,
    metric_label,
    short_fingerprint,
    slug,
)
from crossalign.evaluation.metrics import lower_is_better
from crossalign.evaluation.results import EvaluationResult, TaskScore
from crossalign.reports.tables import (
    bitext_tables,
    build_tables,
    describe_results,
    inclination_tables,
    mixed_pool_tables,
    retrieval_tables,
    sts_tables,
    summary_tables,
    summary_text,
    tidy,
)


def test_value_formatting_is_half_up_on_the_written_value() -> None:
    # f"{81.25:.1f}" would give 81.2 (binary round-half-even); the table rounds the decimal value half up.
    assert format_value("ndcg@10", 0.8125) == "81.3"
    assert format_value("ndcg@10", 0.12345) == "12.3"
    assert format_value("ndcg@10", 0.81249) == "81.2"
    assert format_value("recall@10", 1.0) == "100.0"
    assert format_value("ndcg@10", 0.0) == "0.0"
    assert format_value("ndcg@10", None) == "—"
    assert format_value("ndcg@10", float("nan")) == "—"
    # ranks and counts are not scaled
    assert format_value("max_rank_mean", 7.25) == "7.3"
    assert format_value("max_rank_median", 3.0) == "3.0"
    assert format_value("pivot_above_gold_mean", 2.05) == "2.1"
    assert format_delta("ndcg@10", 0.0325) == "+3.3"
    assert format_delta("ndcg@10", -0.004) == "-0.4"
    assert format_delta("ndcg@10", 0.0004) == "±0.0"
    assert format_delta("max_rank_mean", -12.25) == "-12.3"
    assert format_p(0.0004) == "<0.001"
    assert format_p(0.0312) == "0.031"
    assert format_ci("ndcg@10", 0.004, 0.03125) == "[+0.4, +3.1]"
    assert format_ci("max_rank_mean", -2.0, None) == "—"


def test_file_name_and_fingerprint_helpers() -> None:
    assert slug("zh-CN→{en,zh-CN}") == "zh-CN-en-zh-CN"
    assert slug("base+clear de") == "base+clear-de"
    assert slug("→") == "x"
    assert short_fingerprint("sha256:0123456789abcdef") == "0123456789ab"
    assert short_fingerprint(None) == "—"


def test_metric_directions_and_labels() -> None:
    for m in (
        "max_rank_mean",
        "max_rank_median",
        "xsim",
        "xsim_absolute",
        "xsim_error",
        "pivot_first@1",
        "pivot_above_gold_mean",
        "max_rank",
    ):
        assert lower_is_better(m), m
    for m in ("ndcg@10", "complete@10", "p@1_src2tgt", "bucc_f1", "spearman", "ndcg@1"):
        assert not lower_is_better(m), m
    assert header_label("ndcg@10") == "nDCG@10 ↑"
    assert header_label("max_rank_median") == "Max@R median ↓"
    assert metric_label("pivot_first@1") == "EnglishFirst@1"
    assert metric_label("lang_share@10:en") == "en share of top 10"
    assert header_label("lang_share@10:en") == "en share of top 10"  # neutral: no arrow
    assert direction_class("de", "en") == "x→en"
    assert direction_class("en", "de") == "en→x"
    assert direction_class("de", "de") == "x→x"
    assert direction_class("en", "en") == "en→en"
    assert direction_class("de", "fr") == "x→y"
    assert direction_class("de", None) == "mixed"


def _retrieval_result(label: str = "base") -> object:
    # Task names say nothing about the direction on purpose: only query_lang/doc_lang count.
    return result(
        label,
        [
            task("retrieval", "en", "en", {"ndcg@10": 0.9, "mrr@10": 0.85}, n=100, name="lo"),
            task("retrieval", "de", "de", {"ndcg@10": 0.8125}, n=100, name="lo"),
            task("retrieval", "de", "en", {"ndcg@10": 0.61}, n=100, name="lo"),
            task("retrieval", "en", "de", {"ndcg@10": 0.70}, n=100, name="lo"),
            task("retrieval", "zh-CN", "zh-CN", {"ndcg@10": 0.77}, n=100, name="lo"),
            task("retrieval", "zh-CN", "en", {"ndcg@10": 0.50}, n=90, name="lo"),
            task("retrieval", "en", "zh-CN", {"ndcg@10": 0.60}, n=100, name="lo"),
            task("retrieval", "de", "zh-CN", {"ndcg@10": 0.40}, n=100, name="lo"),
        ],
    )


def test_retrieval_table_language_by_direction() -> None:
    tables = retrieval_tables(_retrieval_result())
    main, other = tables
    assert main.columns == ["language", "en→en", "x→x", "x→en", "en→x"]
    assert main.row("de") == ["de", "90.0", "81.3", "61.0", "70.0"]
    # the cell with another query count carries it; the caption states the usual one
    assert main.row("zh-CN") == ["zh-CN", "90.0", "77.0", "50.0 (n=90)", "60.0"]
    # means per direction over the two languages, from raw values: (0.8125+0.77)/2 = 0.79125 -> 79.1
    assert main.row("mean (2 langs)") == ["mean (2 langs)", "90.0", "79.1", "55.5", "65.0"]
    assert "n = 100 queries per cell unless marked (n=…)" in main.caption
    assert main.metric == "ndcg@10"
    # de→zh-CN is neither of the four classes: its own table
    assert other.rows == [["de→zh-CN", "40.0"]]
    md = main.to_markdown()
    assert "| language | en→en | x→x | x→en | en→x |" in md
    assert "|---|---:|---:|---:|---:|" in md
    assert "| de | 90.0 | 81.3 | 61.0 | 70.0 |" in md
    text = main.to_text()
    assert "mean (2 langs)" in text and "81.3" in text


def test_retrieval_table_two_models_and_partial_means() -> None:
    a = _retrieval_result("base")
    b = result(
        "tuned",
        [
            task("retrieval", "en", "en", {"ndcg@10": 0.91}, n=100, name="lo"),
            task("retrieval", "de", "en", {"ndcg@10": 0.72}, n=100, name="lo"),
            task("retrieval", "zh-CN", "en", {"ndcg@10": 0.66}, n=100, name="lo"),
            task("retrieval", "de", "de", {"ndcg@10": 0.80}, n=100, name="lo"),
        ],
    )
    main = retrieval_tables([a, b])[0]
    assert main.columns[:2] == ["language", "model"]
    assert main.row("de", "tuned") == ["de", "tuned", "91.0", "80.0", "72.0", "—"]
    # tuned has x→x only for de: the mean is marked as partial
    assert main.row("mean (2 langs)", "tuned") == ["mean (2 langs)", "tuned", "91.0", "80.0*", "69.0", "—"]
    assert any(c.startswith("* mean over") for c in main.caption)


def test_extra_metrics_and_tidy() -> None:
    r = _retrieval_result()
    tables = retrieval_tables(r, metrics=["mrr@10"])
    assert [t.metric for t in tables] == ["mrr@10"]
    # only en→en reports MRR@10: one row, no mean over zero languages
    assert tables[0].columns == ["language", "en→en"]
    assert tables[0].rows == [["en", "85.0"]]
    rows = tidy(r)
    de_en = next(x for x in rows if x.query_lang == "de" and x.doc_lang == "en")
    assert (de_en.direction, de_en.direction_class, de_en.language, de_en.value) == ("de→en", "x→en", "de", 0.61)
    assert de_en.main and not de_en.lower_is_better


def test_mixed_pool_inclination_bitext_sts_tables() -> None:
    r = result(
        "m",
        [
            task(
                "mixed-pool",
                "de",
                None,
                {"max_rank_mean": 12.25, "max_rank_median": 4.0, "complete@10": 0.615, "ndcg@1": 0.4},
                n=200,
            ),
            task(
                "mixed-pool",
                "en",
                None,
                {"max_rank_mean": 8.0, "max_rank_median": 3.5, "complete@10": 0.7, "ndcg@1": 0.5},
                n=200,
                pool={"de": 10, "en": 10},
            ),
            task(
                "mixed-pool",
                "zh-CN",
                None,
                {"max_rank_mean": 20.0, "max_rank_median": 6.0, "complete@10": 0.5, "ndcg@1": 0.3},
                n=200,
            ),
            task(
                "inclination",
                "de",
                None,
                {"pivot_first@1": 0.25, "pivot_above_gold_mean": 1.75, "ndcg@1": 0.7, "lang_share@10:en": 0.35},
                n=150,
            ),
            task("bitext", "de", "en", {"p@1_src2tgt": 0.9, "p@1_tgt2src": 0.875, "xsim_error": 0.08, "bucc_f1": 0.85}),
            task(
                "bitext", "zh-CN", "en", {"p@1_src2tgt": 0.8, "p@1_tgt2src": 0.8, "xsim_error": 0.15, "bucc_f1": 0.75}
            ),
            task("sts", "de", "en", {"spearman": 0.7125, "pearson": 0.70}),
        ],
    )
    (mp,) = mixed_pool_tables(r)
    assert mp.columns == ["query_lang→pool", "Max@R mean ↓", "Max@R median ↓", "Complete@10 ↑", "nDCG@1 ↑"]
    assert mp.row("de→{de,en} (10 de + 10 en)") == ["de→{de,en} (10 de + 10 en)", "12.3", "4.0", "61.5", "40.0"]
    # the English queries come after the x queries; the x mean averages de and zh-CN
    assert mp.rows[2][0].startswith("en→{de,en}")
    assert mp.row("mean x→… (2)") == ["mean x→… (2)", "16.1", "5.0", "55.8", "35.0"]
    (inc,) = inclination_tables(r)
    assert inc.columns == [
        "query_lang→pool",
        "EnglishFirst@1 ↓",
        "English above gold ↓",
        "nDCG@1 ↑",
        "en share of top 10",
    ]
    assert inc.rows[0][1:] == ["25.0", "1.8", "70.0", "35.0"]
    assert "n = 150 queries per cell" in inc.caption
    (bt,) = bitext_tables(r)
    assert bt.columns == ["src→tgt", "P@1 src→tgt ↑", "P@1 tgt→src ↑", "xSIM error ↓", "BUCC F1 ↑"]
    assert bt.row("de→en") == ["de→en", "90.0", "87.5", "8.0", "85.0"]
    assert bt.row("mean (2)") == ["mean (2)", "85.0", "83.8", "11.5", "80.0"]
    (st,) = sts_tables(r)
    assert st.row("de→en") == ["de→en", "71.3", "70.0"]
    assert "n = 4 pairs per cell" in st.caption
    assert [t.suite for t in build_tables(r)] == ["mixed-pool", "inclination", "bitext", "sts"]


def test_unknown_suite_gets_a_generic_table() -> None:
    r = result("m", [task("my-suite", "de", "en", {"accuracy": 0.5, "loss_rank": 3.0}, main="accuracy")])
    (t,) = build_tables(r)
    assert t.suite == "my-suite"
    assert t.columns == ["direction", "accuracy ↑", "loss_rank ↑"]
    assert t.rows == [["de→en", "50.0", "300.0"]]


def test_describe_results_header() -> None:
    a = make_result("base", n=20)
    b = make_result("tuned", n=20, seed=2)
    text = describe_results([a, b])
    assert "**base**: spec `e5-small-q4`, fingerprint `01ab12ab12ab`" in text
    assert "**tuned**" in text and "fingerprint `02ab12ab12ab`" in text
    assert "source `libreoffice`, provenance libreoffice-help 24.2.7, split `test`" in text
    assert "Warning" not in text
    c = make_result("other", n=20, split="validation")
    assert "evaluated on different data" in describe_results([a, c])


@pytest.mark.parametrize("renderer", ["to_rich"])
def test_rich_rendering(renderer: str) -> None:
    from rich.console import Console

    t = retrieval_tables(_retrieval_result())[0]
    console = Console(width=120, record=True)
    console.print(getattr(t, renderer)())
    out = console.export_text()
    assert "81.3" in out and "x→en" in out


def _short_result() -> EvaluationResult:
    # shaped as the evaluators write them: de→en retrieval of one set, a mixed pool of another (doc_lang None)
    pool = {"en": 1, "zh-CN": 2}
    return result(
        "toy model",
        [
            task("retrieval", "de", "en", {"ndcg@10": 0.8125, "recall@100": 1.0}, n=2, name="lo-sections/de"),
            task("mixed-pool", "en", None, {"max_rank_mean": 2.5, "complete@10": 1.0}, n=1, pool=pool,
                 name="lo-sections/zh-CN"),
            task("mixed-pool", "zh-CN", None, {"max_rank_mean": 7.25, "max_rank_median": 3.0, "complete@10": 0.5,
                 "ndcg@1": 0.0}, n=2, pool=pool, name="lo-sections/zh-CN"),
        ],
    )  # fmt: skip


def test_summary_tables_and_their_renderings() -> None:
    tables = {t.title.split(" ")[0]: t for t in summary_tables(_short_result())}
    retrieval, mixed = tables["retrieval"], tables["mixed-pool"]
    assert retrieval.title == "retrieval · ndcg@10 ×100"
    assert retrieval.columns == ["task", "x→en", "n"]
    assert retrieval.rows == [["lo-sections/de", "81.3", "2"]]  # main score, half away from zero
    # x queries before pivot queries over a mixed pool; every column of the suite, absent scores as "—"
    assert mixed.columns == ["task", "direction", "Max@R mean ↓", "Max@R median ↓", "Complete@1 ↑", "Complete@10 ↑",
                             "Complete@100 ↑", "nDCG@1 ↑", "EnglishFirst@1 ↓", "n"]  # fmt: skip
    assert mixed.rows == [
        ["lo-sections/zh-CN", "zh-CN→{en,zh-CN}", "7.3", "3.0", "—", "50.0", "—", "0.0", "—", "2"],
        ["lo-sections/zh-CN", "en→{en,zh-CN}", "2.5", "—", "—", "100.0", "—", "—", "—", "1"],
    ]
    assert mixed.label_columns == 2 and mixed.suite == "mixed-pool"
    lines = summary_text(_short_result()).splitlines()
    assert lines[0] == retrieval.title and lines[1].split() == ["task", "x→en", "n"]
    assert lines[3].split() == retrieval.rows[0]  # rows as formatted, under a header rule
    md = summary_text(_short_result(), markdown=True)
    assert md.startswith(f"### {retrieval.title}\n\n| task | x→en | n |\n|---|---:|---:|\n")
    assert "| " + " | ".join(mixed.rows[0]) + " |" in md
    assert "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|" in md


def test_summary_retrieval_columns_follow_the_direction_classes() -> None:
    def score(q: str, d: str | None, v: float) -> TaskScore:
        pool = {d: 10} if d else {"de": 10, "en": 10}
        return TaskScore("retrieval", "set", q, d, pool, 10, "ndcg@10", {"ndcg@10": v})

    tasks = [
        score("en", None, 0.1),
        score("de", "fr", 0.2),
        score("en", "de", 0.3),
        score("de", None, 0.4),
        score("de", "en", 0.5),
        score("de", "de", 0.6),
        score("en", "en", 0.8125),
    ]
    [table] = summary_tables(EvaluationResult(model={"label": "m"}, data={}, config={}, tasks=tasks))
    assert table.columns == ["task", "en→en", "x→x", "x→en", "en→x", "de→fr", "de→mixed", "en→mixed", "n"]
    assert table.rows == [["set", "81.3", "60.0", "50.0", "30.0", "20.0", "40.0", "10.0", "10"]]


def test_bitext_means_never_mix_pairs_with_and_without_english() -> None:
    def bt(src: str, tgt: str, p1: float) -> TaskScore:
        return task("bitext", src, tgt, {"p@1_src2tgt": p1, "p@1_tgt2src": p1, "xsim_error": 1 - p1})

    tasks = [bt("hi", "de", 0.5), bt("de", "en", 0.9), bt("de", "km", 0.7), bt("km", "en", 0.8)]
    (table,) = bitext_tables(result("m", tasks))
    labels = [row[0] for row in table.rows]
    assert labels == ["de→en", "km→en", "de→km", "hi→de", "mean x→en (2)", "mean x→y (2)"]
    assert table.row("mean x→en (2)")[1] == "85.0" and table.row("mean x→y (2)")[1] == "60.0"
    # one kind of pair only: one plain mean; one pair of a kind: no mean of it
    (only,) = bitext_tables(result("m", tasks[1::2]))
    assert [row[0] for row in only.rows] == ["de→en", "km→en", "mean (2)"]
    (one_xy,) = bitext_tables(result("m", tasks[1:]))
    assert [row[0] for row in one_xy.rows] == ["de→en", "km→en", "de→km", "mean x→en (2)"]
    # the short table: one row per pair
    [short] = summary_tables(result("m", tasks))
    assert [row[1] for row in short.rows] == ["de→en", "km→en", "de→km", "hi→de"]


def test_suite_rows_follow_one_direction_order_in_report_and_summary() -> None:
    # en→en first, then x→en, en→x, then between two non-pivot languages: the retrieval columns' order
    r = result(
        "m",
        [
            task("sts", "de", "fr", {"spearman": 0.4, "pearson": 0.4}),
            task("sts", "en", "de", {"spearman": 0.5, "pearson": 0.5}),
            task("sts", "de", "en", {"spearman": 0.6, "pearson": 0.6}),
            task("sts", "en", "en", {"spearman": 0.8, "pearson": 0.8}),
        ],
    )
    order = ["en→en", "de→en", "en→de", "de→fr"]
    (st,) = sts_tables(r)
    assert [row[0] for row in st.rows] == [*order, "mean (4)"]
    assert [row[1] for row in summary_tables(r)[0].rows] == order
