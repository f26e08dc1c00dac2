"""``--benchmark mteb:<TaskName>``: real mteb task objects (their metadata from mteb itself) with data set by the test,
since the hub is out of reach here; ``task.load_data()`` is the only step not run."""

from __future__ import annotations

import pytest

from crossalign.data.benchmarks import load_benchmark
from crossalign.errors import ConfigError

mteb = pytest.importorskip("mteb")
datasets = pytest.importorskip("datasets")


def test_bitext_task_subsets_become_bitext_sets() -> None:
    from crossalign.data.benchmarks.mteb_tasks import mteb_task_benchmark

    task = mteb.get_task("Tatoeba", hf_subsets=["deu-eng", "khm-eng"])
    task.dataset = {
        "deu-eng": datasets.DatasetDict(
            {
                "test": datasets.Dataset.from_dict(
                    {"sentence1": ["Satz eins.", "Satz zwei."], "sentence2": ["One.", "Two."]}
                )
            }
        ),
        "khm-eng": datasets.DatasetDict(
            {"test": datasets.Dataset.from_dict({"sentence1": ["ប្រយោគ"], "sentence2": ["A sentence."]})}
        ),
    }
    task.data_loaded = True
    bench = mteb_task_benchmark(task)
    assert [(s.suite, s.name) for s in bench.sets] == [
        ("bitext", "mteb/Tatoeba/deu-eng/de-en"), ("bitext", "mteb/Tatoeba/khm-eng/km-en")
    ]  # fmt: skip
    de = bench.sets[0].data
    assert [q.text for q in de.queries] == ["Satz eins.", "Satz zwei."] and de.qrels == {
        "de:0": {"en:0": 1},
        "de:1": {"en:1": 1},
    }
    assert (
        bench.info.hub_id == "mteb/tatoeba-bitext-mining" and bench.info.revision == task.metadata.dataset["revision"]
    )
    assert bench.langs == {"de": "deu-eng", "km": "khm-eng"}


def test_gold_column_as_mteb_scores_it() -> None:
    """MTEB's first BUCC keeps one source row per gold pair and scores source row i against target gold[i][1]."""
    from crossalign.data.benchmarks.mteb_tasks import mteb_task_benchmark

    task = mteb.get_task("BUCC", hf_subsets=["de-en"])
    task.dataset = {
        "de-en": {"test": {"sentence1": ["s5", "s7"], "sentence2": ["t0", "t1", "t2"], "gold": [(5, 2), (7, 0)]}}
    }
    task.data_loaded = True
    [s] = mteb_task_benchmark(task).sets
    assert [d.text for d in s.data.documents] == ["t0", "t1", "t2"]
    assert s.data.qrels == {"de:0": {"en:2": 1}, "de:1": {"en:0": 1}}


def test_monolingual_retrieval_subset_and_refusals() -> None:
    from crossalign.data.benchmarks.mteb_tasks import mteb_task_benchmark

    task = mteb.get_task("XQuADRetrieval", hf_subsets=["de"])
    corpus = datasets.Dataset.from_dict(
        {"id": ["c1", "c2"], "title": ["Titel", ""], "text": ["Text eins.", "Text zwei."]}
    )
    queries = datasets.Dataset.from_dict({"id": ["q1"], "text": ["Frage?"]})
    task.dataset = {"de": {"validation": {"corpus": corpus, "queries": queries, "relevant_docs": {"q1": {"c2": 1}}}}}
    task.data_loaded = True
    [s] = mteb_task_benchmark(task).sets
    assert (s.suite, s.data.query_langs, s.data.doc_langs) == ("retrieval", ["de"], ["de"])
    assert [d.text for d in s.data.documents] == ["Titel Text eins.", "Text zwei."]
    assert s.data.qrels == {"de:q1": {"de:c2": 1}}
    cross = mteb.get_task("BelebeleRetrieval", hf_subsets=["deu_Latn-eng_Latn"])
    cross.dataset = {"deu_Latn-eng_Latn": {"test": {"corpus": corpus, "queries": queries, "relevant_docs": {}}}}
    with pytest.raises(ConfigError, match="names two languages"):
        mteb_task_benchmark(cross)
    with pytest.raises(ConfigError, match="MTEB has no task 'NoSuchTask'"):
        load_benchmark("mteb:NoSuchTask")
    with pytest.raises(ConfigError, match="MTEB task Tatoeba has no subset xxx-eng"):
        load_benchmark("mteb:Tatoeba:xxx-eng")
    with pytest.raises(ConfigError, match="is a Classification task"):
        load_benchmark("mteb:Banking77Classification")
    with pytest.raises(ConfigError, match="read by mteb itself"):
        load_benchmark("mteb:Tatoeba", path="/tmp")


def test_whole_task_keeps_the_subsets_in_known_languages(monkeypatch) -> None:
    """Without subsets, only those in languages crossalign knows are loaded; the others are recorded."""
    from crossalign.data.benchmarks import mteb_tasks

    loaded = {}

    def fake_load(self, *args, **kwargs):  # stands in for the hub download
        loaded["subsets"] = list(self.hf_subsets)
        self.dataset = {
            s: datasets.DatasetDict({"test": datasets.Dataset.from_dict({"sentence1": ["a"], "sentence2": ["b"]})})
            for s in self.hf_subsets
        }
        self.data_loaded = True

    monkeypatch.setattr(type(mteb.get_task("Tatoeba")), "load_data", fake_load)
    bench = mteb_tasks.load_mteb_task("Tatoeba")
    assert "deu-eng" in loaded["subsets"] and "ang-eng" not in loaded["subsets"]
    assert len(bench.sets) == len(loaded["subsets"]) == 74
    skipped = bench.source["skipped_subsets"]["subsets"]
    assert "ang-eng" in skipped and len(skipped) == 112 - 74
