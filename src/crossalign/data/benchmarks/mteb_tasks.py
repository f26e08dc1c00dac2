"""An MTEB task by name (``--benchmark mteb:<TaskName>[:<hf_subsets>]``) as crossalign evaluation sets.

The task is found and loaded by ``mteb`` itself (``mteb.get_task(name, hf_subsets=...)``, ``task.load_data()``:
the task's own hub dataset and pinned revision), then each of its subsets becomes a crossalign set:

- ``BitextMining`` subsets: ``sentence1`` (the subset's first language) are the sources, ``sentence2`` (the
  second) the targets; the gold is row ``i`` ↔ row ``i``, or, where the task has a ``gold`` column (MTEB's first
  BUCC), source row ``i`` ↔ target ``gold[i][1]``, as MTEB scores it. Tasks whose subsets are parallel columns
  (``FloresBitextMining``) are not read here: use ``--benchmark flores``.
- ``Retrieval`` subsets in one language (MIRACL, XQuADRetrieval, ...): queries, corpus (``title + " " + text``, as
  MTEB encodes it) and ``relevant_docs``. A subset naming two languages is refused: MTEB's metadata does not say
  which of them the queries are in (use ``--benchmark belebele`` or ``xquad-r`` for cross-lingual retrieval).

Other task types are refused with the list of the supported ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crossalign.data.benchmarks.sets import bitext_set, record_id
from crossalign.data.eval_sets import EvalSet, retrieval_set_digest
from crossalign.data.records import Document, Query, RetrievalSet
from crossalign.errors import ConfigError, CorpusError, DataFormatError, MissingDependencyError, UnknownLanguageError
from crossalign.languages import from_iso639_3

__all__ = ["load_mteb_task", "mteb_task_benchmark"]

SUPPORTED_TYPES = ("BitextMining", "Retrieval")


def _mteb() -> Any:
    try:
        import mteb
    except ImportError:
        raise MissingDependencyError(
            "mteb is needed for --benchmark mteb:<TaskName>", hint="pip install 'crossalign[mteb]'"
        ) from None
    return mteb


def load_mteb_task(name: str, *, subsets: Sequence[str] | None = None, split: str | None = None) -> Any:
    """Find an MTEB task, load its data with ``mteb`` and convert it (:func:`mteb_task_benchmark`).

    Raises:
        MissingDependencyError: mteb is not installed.
        ConfigError: No such task, an unknown subset or an unsupported task type.
        CorpusError: mteb cannot download the task's data.
    """
    mteb = _mteb()
    skipped: list[str] = []
    if not subsets:  # every subset in a language crossalign knows (the others are listed in the provenance)
        try:
            meta = mteb.get_task(name).metadata
        except KeyError:
            meta = None
        if meta is not None and isinstance(meta.eval_langs, dict):
            subsets = []
            for subset in meta.hf_subsets:
                try:
                    _tags(meta, subset)
                    subsets.append(subset)
                except UnknownLanguageError:
                    skipped.append(subset)
    try:
        task = mteb.get_task(name, hf_subsets=list(subsets) if subsets else None)
    except KeyError as exc:
        raise ConfigError(
            f"MTEB has no task {name!r} ({str(exc).strip(chr(34))[:160]})",
            hint="task names are case-sensitive, e.g. mteb:Tatoeba, mteb:BUCC.v2, mteb:XQuADRetrieval",
        ) from None
    except ValueError:  # mteb refuses subsets the task does not have
        task = mteb.get_task(name)
    _check(task, subsets, split)
    try:
        task.load_data()
    except Exception as exc:
        raise CorpusError(
            f"mteb cannot load {name}: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
            hint="check the network (mteb reads the task's dataset from the Hugging Face hub)",
        ) from None
    return mteb_task_benchmark(task, split=split, skipped=skipped)


def _check(task: Any, subsets: Sequence[str] | None, split: str | None) -> None:
    meta = task.metadata
    if meta.type not in SUPPORTED_TYPES:
        raise ConfigError(
            f"MTEB task {meta.name} is a {meta.type} task",
            hint=f"crossalign evaluates MTEB tasks of type {', '.join(SUPPORTED_TYPES)}",
        )
    if subsets:
        unknown = sorted(set(subsets) - set(task.hf_subsets))
        if unknown:
            raise ConfigError(
                f"MTEB task {meta.name} has no subset {', '.join(unknown)}",
                hint=f"choose from {', '.join(sorted(meta.hf_subsets)[:40])}",
            )
    if split is not None and split not in meta.eval_splits:
        raise ConfigError(f"MTEB task {meta.name} has no split {split!r}", hint=f"choose from {meta.eval_splits}")


def _tags(meta: Any, subset: str) -> list[str]:
    langs = meta.eval_langs[subset] if isinstance(meta.eval_langs, dict) else meta.eval_langs
    out = []
    for code in langs:
        tag = from_iso639_3(code)
        if tag is None:
            raise UnknownLanguageError(
                f"MTEB task {meta.name}, subset {subset}: crossalign does not know the language {code!r}",
                hint="choose subsets in languages crossalign knows (crossalign.languages.known_codes())",
            )
        out.append(tag)
    return out


def _subset_data(task: Any, subset: str, split: str) -> Any:
    data = task.dataset
    if subset in data and split in data[subset]:
        return data[subset][split]
    if split in data:
        return data[split]
    raise DataFormatError(f"MTEB task {task.metadata.name}: no data for subset {subset!r}, split {split!r}")


def mteb_task_benchmark(task: Any, *, split: str | None = None, skipped: Sequence[str] = ()) -> Any:
    """Convert an MTEB task whose data is loaded (``task.load_data()``) into a :class:`Benchmark`.

    ``skipped``: subsets left out before loading (languages crossalign does not know), recorded in the source.

    Raises:
        ConfigError: An unsupported task type or a cross-lingual retrieval subset.
        DataFormatError: A subset without the columns its type needs.
    """
    from crossalign.data.benchmarks import Benchmark, BenchmarkInfo

    meta = task.metadata
    _check(task, None, split)
    split = split or meta.eval_splits[0]
    if getattr(task, "parallel_subsets", False):
        raise ConfigError(
            f"MTEB task {meta.name} stores its languages as parallel columns",
            hint="use --benchmark flores for FLORES bitext mining",
        )
    task_name = f"mteb/{meta.name}"
    sets: list[EvalSet] = []
    langs: dict[str, str] = {}
    for subset in task.hf_subsets:
        tags = _tags(meta, subset)
        data = _subset_data(task, subset, split)
        prov = {"mteb_task": meta.name, "hf_subset": subset, "split": split, "dataset": dict(meta.dataset)}
        if meta.type == "BitextMining":
            src, tgt = (tags[0], tags[1]) if len(tags) > 1 else (tags[0], tags[0])
            cols = set(data) if isinstance(data, Mapping) else set(data.column_names)  # MTEB's BUCC: a plain dict
            if not {"sentence1", "sentence2"} <= cols:
                raise DataFormatError(
                    f"MTEB task {meta.name}, subset {subset}: columns {sorted(cols)} lack sentence1/sentence2",
                    field="sentence1",
                )
            s1, s2 = list(data["sentence1"]), list(data["sentence2"])
            gold = (
                [(i, g[1]) for i, g in enumerate(data["gold"])] if "gold" in cols else [(i, i) for i in range(len(s1))]
            )
            sources = [(str(i), t) for i, t in enumerate(s1)]
            targets = [(str(j), t) for j, t in enumerate(s2)]
            pairs = [(str(i), str(j)) for i, j in gold]
            sets.append(bitext_set(f"{task_name}/{subset}", src, tgt, sources, targets, pairs, provenance=prov))
        else:
            if len(set(tags)) > 1:
                raise ConfigError(
                    f"MTEB task {meta.name}, subset {subset} names two languages ({', '.join(tags)}); MTEB's metadata "
                    "does not say which side the queries are in",
                    hint="use a monolingual subset, or --benchmark belebele / xquad-r for cross-lingual retrieval",
                )
            sets.append(EvalSet("retrieval", task_name, _retrieval(data, tags[0], f"{task_name}/{subset}", prov)))
        langs[tags[0]] = subset
    info = BenchmarkInfo(
        name=f"mteb:{meta.name}",
        title=meta.name,
        hub_id=str(meta.dataset.get("path")),
        revision=meta.dataset.get("revision"),
        task_type=meta.type,
        suites=("bitext",) if meta.type == "BitextMining" else ("retrieval",),
        split=split,
        splits=tuple(meta.eval_splits),
        default_langs=(),
        license=str(meta.license),
        citation=str(meta.bibtex_citation or ""),
        reference=str(meta.reference or ""),
        description=str(meta.description),
        loader=lambda *a: [],
        mteb_task=meta.name,
    )
    source: dict[str, Any] = {"mteb_task": meta.name, "hub_id": info.hub_id, "revision": info.revision}
    if skipped:
        source["skipped_subsets"] = {"why": "languages crossalign does not know", "subsets": list(skipped)}
    return Benchmark(info=info, langs=langs, split=split, sets=sets, source=source)


def _retrieval(data: Any, lang: str, name: str, prov: dict[str, Any]) -> RetrievalSet:
    queries = [Query(record_id(lang, str(r["id"])), r["text"], lang) for r in data["queries"]]
    docs = []
    for r in data["corpus"]:
        title = (r.get("title") or "").strip()
        text = f"{title} {r['text']}".strip() if title else r["text"]
        docs.append(Document(record_id(lang, str(r["id"])), text, lang, title or None))
    qrels = {
        record_id(lang, str(qid)): {record_id(lang, str(did)): int(rel) for did, rel in judged.items()}
        for qid, judged in data["relevant_docs"].items()
    }
    rs = RetrievalSet(queries, docs, qrels, name=name, provenance={"kind": "retrieval", **prov}, validate=False)
    rs.validate()
    rs.provenance["digest"] = retrieval_set_digest(rs)
    return rs
