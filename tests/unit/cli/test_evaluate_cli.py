"""``crossalign evaluate`` end to end: a tiny real model directory, a user retrieval set and STS pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evaluation_testkit import save_tiny_st_model, word_text

from crossalign.cli.main import build_parser, main
from crossalign.data.io import write_retrieval_set
from crossalign.data.records import Document, Query, RetrievalSet
from crossalign.evaluation.results import load_results


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    torch.set_num_threads(1)
    return save_tiny_st_model(tmp_path_factory.mktemp("cli_model") / "tiny")


@pytest.fixture
def user_data(tmp_path: Path) -> tuple[Path, Path]:
    n = 10
    rs = RetrievalSet(
        [Query(f"q{i}", word_text(i, 3), "de") for i in range(n)],
        [Document(f"d{i}", word_text(i, 7), "en") for i in range(n)],
        {f"q{i}": {f"d{i}": 1} for i in range(n)},
        name="toy-set",
    )
    set_dir = write_retrieval_set(rs, tmp_path / "toy-set")
    sts = tmp_path / "toy-sts.jsonl"
    rows = [
        {"text1": word_text(i, 4), "text2": word_text(i + 50, 4), "score": float(i % 5), "lang1": "de", "lang2": "en"}
        for i in range(8)
    ]
    sts.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return set_dir, sts


def test_help_lists_evaluate() -> None:
    help_text = build_parser().format_help()
    assert "evaluate" in help_text


def test_evaluate_end_to_end(model_dir: Path, user_data, tmp_path: Path, capsys) -> None:
    set_dir, sts = user_data
    out = tmp_path / "out"
    argv = ["--no-progress", "evaluate", "--model", str(model_dir), "--data", str(set_dir), "--data", str(sts)]
    argv += ["--output", str(out), "--cache-dir", str(tmp_path / "cache"), "--batch-size", "4"]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    assert stdout.rstrip().splitlines()[-1] == str(out)
    assert "retrieval · ndcg@10" in stdout and "sts ·" in stdout
    manifest = json.loads((out / "evaluation.json").read_text())
    assert manifest["models"] == [{"label": "tiny", "folder": "tiny", "results": "tiny/results.json"}]
    out = out / "tiny"  # one model, the same layout as several: OUT/<label>/
    result = load_results(out)
    got = {(t.suite, t.task, t.query_lang, t.doc_lang) for t in result.tasks}
    assert got == {("retrieval", "toy-set", "de", "en"), ("sts", "toy-sts", "de", "en")}
    [r] = result.find("retrieval")
    assert r.n_queries == 10 and 0.0 <= r.scores["ndcg@10"] <= 1.0
    assert set(r.per_query["ndcg@10"]) == {f"q{i}" for i in range(10)}
    assert result.model["spec"] == str(model_dir) and len(result.model["fingerprint"]) == 64
    assert result.model["label"] == "tiny"
    assert (out / "report.md").is_file()
    assert (out / "runs" / "retrieval" / "toy-set" / "de-en.trec").is_file()
    mteb_files = sorted(p.name for p in (out / "mteb").rglob("*.json"))
    assert mteb_files == ["ToySetRetrieval.json", "ToyStsSTS.json", "model_meta.json"]
    first = result.config["embedding_cache"]["stats"]
    assert first["encoded"] > 0 and first["disk_hits"] == 0

    # again: the persisted embeddings make the model's forward pass unnecessary
    out2 = tmp_path / "out2"
    assert main([*argv[:-6], "--output", str(out2), "--cache-dir", str(tmp_path / "cache"), "--batch-size", "4"]) == 0
    again = load_results(out2 / "tiny")
    stats = again.config["embedding_cache"]["stats"]
    assert stats["encoded"] == 0 and stats["disk_hits"] == first["encoded"]
    assert again.find("retrieval")[0].scores == r.scores


def test_bad_options_give_clear_errors(model_dir: Path, user_data, tmp_path: Path, capsys) -> None:
    set_dir, _ = user_data
    base = ["evaluate", "--model", str(model_dir), "--output", str(tmp_path / "o")]
    assert main([*base, "--data", str(set_dir), "--suite", "sts"]) == 2
    assert "sts suite needs STS data" in capsys.readouterr().err
    assert main([*base, "--data", str(tmp_path / "missing")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert main([*base, "--data", str(set_dir), "--suite", "everything"]) == 2
    assert "unknown suite" in capsys.readouterr().err
    assert main([*base, "--data", str(set_dir), "--metrics", "ndcg@10,nope"]) == 2
    assert "unknown metric" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--max-sections", "0"])
    # the held-out panel never holds a trained language; refused before any set is built or file written
    assert main([*base, "--langs", "de", "--holdout-langs", "ko,de"]) == 2
    assert "--holdout-langs names de, which is trained" in capsys.readouterr().err
    assert main([*base, "--langs", "de", "--holdout-langs", "xx-nope"]) == 2
    assert "xx-nope" in capsys.readouterr().err
    # every option is checked before any data is read: the bad language is reported, not the missing folder
    assert main([*base, "--data", str(tmp_path / "missing"), "--langs", "xx-nope"]) == 2
    err = capsys.readouterr().err
    assert "xx-nope" in err and "no such file" not in err
    assert not (tmp_path / "o").exists()


def test_evaluate_beir_folder_with_default_languages(model_dir: Path, tmp_path: Path, capsys) -> None:
    beir = tmp_path / "toy-beir"
    (beir / "qrels").mkdir(parents=True)
    n = 6
    corpus = [{"_id": f"d{i}", "title": "", "text": word_text(i, 7)} for i in range(n)]
    (beir / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in corpus), encoding="utf-8")
    queries = [{"_id": f"q{i}", "text": word_text(i, 3)} for i in range(n)]
    (beir / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in queries), encoding="utf-8")
    qrels = "query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{i}\t1\n" for i in range(n - 1))
    (beir / "qrels" / "test.tsv").write_text(qrels, encoding="utf-8")
    base = ["--no-progress", "evaluate", "--model", str(model_dir), "--data", str(beir), "--suite", "retrieval"]
    base += ["--cache-dir", str(tmp_path / "cache"), "--batch-size", "4"]
    # without languages: one error naming the file, line and field, and nothing written
    assert main([*base, "--output", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert "queries.jsonl:1, field 'lang': missing column 'lang'" in err and "--query-lang CODE" in err
    assert not (tmp_path / "bad").exists()
    out = tmp_path / "out"
    assert main([*base, "--query-lang", "de", "--doc-lang", "en", "--output", str(out)]) == 0
    [r] = load_results(out).find("retrieval")
    assert (r.task, r.query_lang, r.doc_lang, r.n_queries) == ("toy-beir", "de", "en", n - 1)
    assert 0.0 <= r.scores["ndcg@10"] <= 1.0
    assert "--query-lang de --doc-lang en" in (out / "report.md").read_text(encoding="utf-8")
    assert main([*base[:-4], "--split", "dev", "--query-lang", "de", "--output", str(tmp_path / "o2")]) == 2
    assert "no qrels for split 'dev'" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(model_dir), "--query-lang", "de", "--output", str(tmp_path / "o3")]) == 2
    assert "--query-lang applies to --data" in capsys.readouterr().err


def test_evaluate_benchmarks_from_local_copies(model_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    import datasets
    from benchmark_fixtures import belebele_copy, pair_bitext_copy

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    bele = belebele_copy(tmp_path / "belebele")
    tato = pair_bitext_copy(tmp_path / "tatoeba", {"deu-eng": 6, "khm-eng": 4})
    out = tmp_path / "out"
    argv = ["--no-progress", "evaluate", "--model", str(model_dir), "--benchmark", "belebele:de"]
    argv += ["--benchmark", "tatoeba:de,km", "--benchmark-path", f"belebele={bele}", "--benchmark-path"]
    argv += [f"tatoeba={tato}", "--output", str(out), "--cache-dir", str(tmp_path / "cache"), "--batch-size", "4"]
    assert main(argv) == 0
    assert "Generating test split" not in capsys.readouterr().err  # datasets' bars follow --no-progress
    result = load_results(out)
    got = sorted((t.suite, t.task, t.query_lang, t.doc_lang) for t in result.tasks)
    assert got == sorted(
        [("retrieval", "belebele/de", q, d) for q, d in (("en", "en"), ("de", "de"), ("de", "en"), ("en", "de"))]
        + [("mixed-pool", "belebele/de", "de", None), ("mixed-pool", "belebele/de", "en", None)]
        + [("bitext", "tatoeba", "de", "en"), ("bitext", "tatoeba", "km", "en")]
    )
    de_en = result.find("retrieval", query_lang="de", doc_lang="en")[0]
    assert de_en.n_queries == 4 and 0.0 <= de_en.scores["ndcg@10"] <= 1.0
    km = result.find("bitext", query_lang="km")[0]
    assert km.n_queries == 4 and 0.0 <= km.scores["p@1_src2tgt"] <= 1.0
    bench = {u["name"]: u["benchmark"] for u in result.data["details"]["user_data"]}
    assert bench["tatoeba"]["source"] == {"hub_id": "mteb/tatoeba-bitext-mining", "local_copy": str(tato)}
    assert bench["belebele"]["langs"] == {"de": "deu_Latn"} and bench["belebele"]["license"] == "cc-by-sa-4.0"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert f"--benchmark-path belebele={bele}" in report
    # a bare --benchmark-path needs exactly one --benchmark; errors come before any model work
    bad = ["evaluate", "--model", str(model_dir), "--benchmark", "belebele:de", "--benchmark", "tatoeba:de"]
    assert main([*bad, "--benchmark-path", str(bele), "--output", str(tmp_path / "o")]) == 2
    assert "does not say which of 2 benchmarks" in capsys.readouterr().err
    assert main([*bad[:5], "--benchmark-path", f"flores={bele}", "--output", str(tmp_path / "o")]) == 2
    assert "names 'flores', which no --benchmark asks for" in capsys.readouterr().err
    assert main([*bad[:3], "--split", "dev", "--output", str(tmp_path / "o")]) == 2
    assert "--split applies to --data (a BEIR folder) and --benchmark, and neither is given" in capsys.readouterr().err
    assert main([*bad[:3], "--benchmark-path", str(bele), "--output", str(tmp_path / "o")]) == 2
    assert "--benchmark-path needs a --benchmark" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_output_is_never_mixed_and_overwrite_removes_only_ours(model_dir: Path, user_data, tmp_path: Path, capsys):
    set_dir, _ = user_data
    out = tmp_path / "out"
    base = ["--no-progress", "evaluate", "--data", str(set_dir), "--output", str(out), "--batch-size", "4"]
    base += ["--cache-dir", str(tmp_path / "cache")]
    two = ["--model", str(model_dir), "--model", str(model_dir), "--label", "a", "--label", "b"]
    assert main([*base, *two]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a", "b", "evaluation.json", "plots", "report.md"]
    capsys.readouterr()
    (out / "notes.txt").write_text("mine")
    # a second run into the same folder is refused before any work, and nothing is removed
    assert main([*base, "--model", str(model_dir), "--label", "c"]) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err and "--overwrite" in err
    assert (out / "a" / "results.json").is_file()
    # --overwrite replaces the previous evaluation and keeps what it did not write
    assert main([*base, "--model", str(model_dir), "--label", "c", "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["c", "evaluation.json", "notes.txt", "plots", "report.md"]
    assert load_results(out).label == "c"
    # a folder this evaluation would write that no evaluation wrote is never removed
    (out / "d").mkdir()
    (out / "d" / "keep").write_text("x")
    assert main([*base, "--model", str(model_dir), "--label", "d", "--overwrite"]) == 2
    assert "was not written by crossalign evaluate" in capsys.readouterr().err
    assert (out / "d" / "keep").is_file() and (out / "c" / "results.json").is_file()


def test_labels_count_and_bad_model_before_any_work(model_dir: Path, user_data, tmp_path: Path, capsys):
    set_dir, _ = user_data
    out = tmp_path / "o"
    argv = ["evaluate", "--model", str(model_dir), "--label", "a", "--label", "b", "--data", str(set_dir)]
    assert main([*argv, "--output", str(out)]) == 2
    assert "2 labels for 1 models" in capsys.readouterr().err
    # a missing model directory is reported before the (here: missing) data is even read
    argv = ["evaluate", "--model", str(tmp_path / "nope"), "--data", str(tmp_path / "missing"), "--output", str(out)]
    assert main(argv) == 2
    assert "does not exist" in capsys.readouterr().err and not out.exists()


def test_prompts_of_a_snapshot_without_them(model_dir: Path, user_data, tmp_path: Path, capsys) -> None:
    import shutil

    set_dir, _ = user_data
    snap = tmp_path / "multilingual-e5-small"  # an E5 snapshot whose configuration has no prompts
    shutil.copytree(model_dir, snap)
    st_config = snap / "config_sentence_transformers.json"
    st_config.write_text(json.dumps({**json.loads(st_config.read_text()), "prompts": {}}))
    base = ["--no-progress", "evaluate", "--model", str(snap), "--data", str(set_dir), "--suite", "retrieval"]
    base += ["--cache-dir", str(tmp_path / "cache"), "--batch-size", "4"]
    assert main([*base, "--output", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "prompts: query 'query: ' (family e5), passage 'passage: ' (family e5)" in err and "WARNING" not in err
    model = load_results(tmp_path / "a").model
    assert model["prompt_choice"]["family"] == "e5" and model["prompts"]["query"] == "query: "
    # flags override everything; an E5 model run without a query prompt is warned about
    assert main([*base, "--query-prompt", "", "--passage-prompt", "", "--output", str(tmp_path / "b")]) == 0
    err = capsys.readouterr().err
    assert "WARNING: " in err and "looks like an E5 model" in err
    choice = load_results(tmp_path / "b").model["prompt_choice"]
    assert (choice["query"], choice["query_source"], choice["passage_source"]) == ("", "flag", "flag")
    assert choice["warning"]
    # other prompt texts: nothing comes from the vectors the first run cached
    assert load_results(tmp_path / "b").config["embedding_cache"]["stats"]["disk_hits"] == 0


def test_encoding_path_is_an_option_and_recorded(model_dir: Path, user_data, tmp_path: Path, capsys) -> None:
    from crossalign.models.backends import openvino_available

    set_dir, _ = user_data
    base = ["--no-progress", "evaluate", "--model", str(model_dir), "--data", str(set_dir), "--batch-size", "4"]
    base += ["--cache-dir", str(tmp_path / "cache")]
    assert main([*base, "--output", str(tmp_path / "fp32")]) == 0
    ref = load_results(tmp_path / "fp32" / "tiny")
    assert ref.config["encoding_path"] == {"backend": "torch", "precision": "fp32"}
    with pytest.raises(SystemExit):
        main([*base, "--output", str(tmp_path / "bad"), "--backend", "onnx"])
    if not openvino_available():
        pytest.skip("openvino is not installed (extra crossalign[openvino])")
    assert main([*base, "--output", str(tmp_path / "ov"), "--backend", "openvino", "--precision", "fp32"]) == 0
    got = load_results(tmp_path / "ov" / "tiny")
    assert got.config["encoding_path"] == {"backend": "openvino", "precision": "fp32"}
    assert got.config["embedding_cache"]["stats"]["encoded"] > 0  # its own key: fp32 torch vectors not reused
    assert list((tmp_path / "cache" / "openvino").glob("*/model.xml"))  # the export lives under --cache-dir
    [a], [b] = ref.find("retrieval"), got.find("retrieval")
    assert b.scores == pytest.approx(a.scores, abs=1e-6)
    capsys.readouterr()


def test_reproduce_command_is_built_from_the_parser() -> None:
    """The report's command names every option set to other than its default, quoted for a shell, and parses back
    to the same arguments."""
    import argparse
    import shlex

    from crossalign.cli import evaluate as evaluate_cli
    from crossalign.cli._text import command_line

    top = argparse.ArgumentParser()
    evaluate_cli.register(top.add_subparsers())
    argv = ["evaluate", "--model", "e5-small-q4", "--model", "runs/x y", "--label", "b", "--label", "c"]
    argv += ["--langs", "de", "--seed", "5", "--faiss", "--output", "o", "--holdout-langs", "none"]
    args = top.parse_args(argv)
    line = command_line("crossalign evaluate", args.parser, args)
    assert line == (
        "crossalign evaluate --model e5-small-q4 --model 'runs/x y' --langs de --label b --label c --output o "
        "--holdout-langs none --seed 5 --faiss"
    )
    back = top.parse_args(shlex.split(line)[1:])
    assert {k: v for k, v in vars(back).items() if k != "parser"} == {
        k: v for k, v in vars(args).items() if k != "parser"
    }


def test_non_english_pairs_flag(model_dir: Path, tmp_path: Path, capsys) -> None:
    from crossalign.workflows.evaluate import EvaluateConfig

    sub = build_parser().parse_args(["evaluate", "--model", "m", "--output", "o"])
    assert sub.non_english_pairs == "auto"
    help_text = sub.parser.format_help()
    assert "--non-english-pairs" in help_text and "de:zh-CN,eu:km" in help_text
    args = build_parser().parse_args(["evaluate", "--model", "m", "--output", "o", "--non-english-pairs", "de:zh_cn"])
    assert EvaluateConfig(langs="de,zh-CN", non_english_pairs=args.non_english_pairs).non_english_pairs == (
        ("de", "zh-CN"),
    )
    # a bad pair is refused before any set is built or file written, naming the pair and the fix
    base = ["evaluate", "--model", str(model_dir), "--output", str(tmp_path / "o"), "--langs", "de,km"]
    assert main([*base, "--non-english-pairs", "de:ja"]) == 2
    err = capsys.readouterr().err
    assert "de:ja names ja, not among the evaluated languages (de, km)" in err and "add ja" in err
    assert main([*base, "--non-english-pairs", "2"]) == 2
    assert "2 non-English languages (de, km) give at most 1 pair without English" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
