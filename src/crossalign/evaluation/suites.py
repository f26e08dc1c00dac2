"""Evaluation suites: which evaluators run for ``--suite`` on the LibreOffice sets and on user data.

========================  =============================================================================================
suite                     what runs
========================  =============================================================================================
``retrieval``             per language x: en→en, x→x, x→en, en→x on the LibreOffice sections (nDCG@10 main); every user
                          retrieval set (``--data DIR``) as it is, one score per query language
``mixed-pool``            per language x: x and en queries over ``D_en ∪ D_x``, both parallels relevant (Max@R,
                          Complete@k); plus the inclination pool (scores under suite ``inclination``); user sets whose
                          pool mixes languages
``bitext``                per language x: x→en paragraph mining with distractors, plus the pairs without English
                          (``non_english_pairs``; default one)
``sts``                   user STS pairs (``--data FILE.jsonl``; the format is in :mod:`.evaluators.sts`); there is no
                          built-in STS data, so this suite needs ``--data``
``all``                   all of the above (``sts`` only when STS data is given)
========================  =============================================================================================

``--data PATH`` may be given several times: a directory is a retrieval set in the documented format or a BEIR folder
(:func:`crossalign.data.io.read_retrieval_set`), a ``.jsonl`` file is STS data. ``--benchmark NAME`` adds a standard
benchmark's sets (:func:`benchmark_user_data`, :mod:`crossalign.data.benchmarks`); each set runs in the suite it
belongs to (Belebele, XQuAD-R, MLQA: ``retrieval`` and ``mixed-pool``; Tatoeba, BUCC, FLORES: ``bitext``).

Example:
    >>> parse_suites("all")
    ['retrieval', 'mixed-pool', 'inclination', 'bitext', 'sts']
    >>> parse_suites("mixed-pool,bitext")
    ['mixed-pool', 'inclination', 'bitext']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crossalign.data.eval_sets import EvalSet, EvalSets
from crossalign.data.records import RetrievalSet
from crossalign.errors import ConfigError, DataFormatError
from crossalign.evaluation.evaluators import (
    DEFAULT_RETRIEVAL_METRICS,
    BitextEvaluator,
    CrossalignEvaluator,
    MixedPoolEvaluator,
    RetrievalEvaluator,
    STSEvaluator,
    StsPair,
    read_sts_jsonl,
)

__all__ = [
    "SUITE_CHOICES",
    "SUITE_ORDER",
    "UserData",
    "benchmark_user_data",
    "build_evaluators",
    "libreoffice_suites",
    "load_user_data",
    "parse_suites",
]

#: What ``--suite`` accepts.
SUITE_CHOICES: tuple[str, ...] = ("retrieval", "mixed-pool", "bitext", "sts", "all")
#: Suites in run order (``inclination`` comes with ``mixed-pool``).
SUITE_ORDER: tuple[str, ...] = ("retrieval", "mixed-pool", "inclination", "bitext", "sts")


def parse_suites(value: str | Iterable[str]) -> list[str]:
    """Expand ``--suite`` values (comma-separated or a list) into the suites that run, in run order.

    ``all`` is every suite; ``mixed-pool`` brings ``inclination`` with it.

    Raises:
        ConfigError: An unknown suite name (the message lists the choices).
    """
    items = [v.strip().lower() for v in (value.split(",") if isinstance(value, str) else value) if v and v.strip()]
    if not items:
        raise ConfigError("no suite given", hint=f"choose from {', '.join(SUITE_CHOICES)}")
    chosen: set[str] = set()
    for item in items:
        if item == "all":
            chosen.update(SUITE_ORDER)
        elif item in ("mixed-pool", "mixed", "mixed_pool"):
            chosen.update(("mixed-pool", "inclination"))
        elif item in SUITE_ORDER:
            chosen.add(item)
        else:
            raise ConfigError(f"unknown suite {item!r}", hint=f"choose from {', '.join(SUITE_CHOICES)}")
    return [s for s in SUITE_ORDER if s in chosen]


def libreoffice_suites(suites: Sequence[str]) -> list[str]:
    """The suites that need LibreOffice sets (everything but ``sts``)."""
    return [s for s in suites if s in ("retrieval", "mixed-pool", "inclination", "bitext")]


@dataclass
class UserData:
    """A user dataset given with ``--data``, or a benchmark given with ``--benchmark``.

    Attributes:
        path: Where it was read from (a path, or the benchmark's hub id / local copy).
        kind: ``"retrieval"`` (a directory), ``"sts"`` (a JSONL file) or ``"benchmark"``.
        retrieval: The retrieval set (kind ``retrieval``).
        sts: The STS pairs (kind ``sts``).
        sets: The benchmark's evaluation sets, each with its suite (kind ``benchmark``).
        benchmark: The benchmark's metadata and provenance (kind ``benchmark``).
        name: Task name (the set's name from ``meta.json``, else the directory / file stem; the benchmark's name).
    """

    path: Path | str
    kind: str
    name: str
    retrieval: RetrievalSet | None = None
    sts: list[StsPair] | None = None
    sets: list[EvalSet] | None = None
    benchmark: dict[str, Any] | None = None

    @property
    def languages(self) -> list[str]:
        """Every language of its records, in first-seen order."""
        if self.retrieval is not None:
            langs = self.retrieval.query_langs + self.retrieval.doc_langs
        elif self.sets is not None:
            langs = [lg for s in self.sets for lg in s.data.query_langs + s.data.doc_langs]
        else:
            langs = [p.lang1 for p in self.sts or []] + [p.lang2 for p in self.sts or []]
        return list(dict.fromkeys(langs))

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary for the results' data provenance."""
        out: dict[str, Any] = {"path": str(self.path), "kind": self.kind, "name": self.name}
        if self.retrieval is not None:
            out.update(self.retrieval.describe())
            out["digest"] = self.retrieval.provenance.get("digest")
        if self.sts is not None:
            out["n_pairs"] = len(self.sts)
            out["language_pairs"] = sorted({f"{p.lang1}-{p.lang2}" for p in self.sts})
        if self.benchmark is not None:
            out["benchmark"] = self.benchmark
        return out


def benchmark_user_data(
    spec: str,
    *,
    split: str | None = None,
    path: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> UserData:
    """Load a benchmark by name (``belebele:de,zh-CN``, ``mteb:Tatoeba``; see
    :func:`crossalign.data.benchmarks.load_benchmark`) as evaluation data.

    Args:
        spec: ``NAME[:LANGS]`` or ``mteb:TASK[:SUBSETS]``.
        split: The split (default: the benchmark's evaluation split).
        path: A local copy in the hub's layout.
        cache_dir: ``datasets``' cache directory.
    """
    from crossalign.data.benchmarks import load_benchmark

    bench = load_benchmark(spec, split=split, path=path, cache_dir=cache_dir)
    source = bench.source.get("local_copy") or bench.source.get("hub_id") or spec
    return UserData(source, "benchmark", bench.name, sets=bench.sets, benchmark=bench.describe())


def load_user_data(
    path: str | os.PathLike[str],
    *,
    query_lang: str | None = None,
    doc_lang: str | None = None,
    split: str | None = None,
) -> UserData:
    """Read one ``--data`` path: a retrieval-set directory (crossalign's layout or a BEIR folder) or an STS
    ``.jsonl`` file.

    Args:
        path: The directory or file.
        query_lang, doc_lang: Languages of queries / documents without a ``lang`` field (BEIR folders have none).
        split: BEIR split (``qrels/<split>.tsv``, default ``test``).

    Raises:
        DataFormatError: The path does not exist, or is neither a retrieval-set directory nor a JSONL file (the
            readers name the file, line and field of any error inside).
    """
    from crossalign.data.eval_sets import retrieval_set_digest
    from crossalign.data.io import read_retrieval_set

    p = Path(path).expanduser()
    if p.is_dir():
        rs = read_retrieval_set(p, query_lang=query_lang, doc_lang=doc_lang, split=split)
        rs.validate()
        rs.provenance["digest"] = retrieval_set_digest(rs)
        return UserData(p, "retrieval", rs.name, retrieval=rs)
    if p.is_file():
        if p.suffix.lower() not in (".jsonl", ".json"):
            raise DataFormatError(
                "expected a retrieval-set directory or an STS .jsonl file",
                path=p,
                hint="a retrieval set is a directory with queries.jsonl, corpus.jsonl and qrels.tsv (or a BEIR "
                'folder with qrels/test.tsv); STS data is one {"text1", "text2", "score", "lang1", "lang2"} object '
                "per line",
            )
        return UserData(p, "sts", p.stem, sts=read_sts_jsonl(p))
    raise DataFormatError("no such file or directory", path=p, hint="check the --data path")


def _set_evaluator(
    s: EvalSet, *, metrics: Sequence[str], use_faiss: bool, batch_size: int, long_text: str
) -> CrossalignEvaluator:
    """The evaluator of one evaluation set's suite."""
    common: dict[str, Any] = {"batch_size": batch_size, "long_text": long_text}
    if s.suite == "retrieval":
        return RetrievalEvaluator(s.data, metrics=metrics, task=s.task, use_faiss=use_faiss, **common)
    if s.suite in ("mixed-pool", "inclination"):
        return MixedPoolEvaluator(s.data, suite=s.suite, task=s.task, **common)
    if s.suite == "bitext":
        return BitextEvaluator(s.data, task=s.task, **common)
    raise ConfigError(f"no evaluator for suite {s.suite!r} (set {s.name})")


def build_evaluators(
    suites: Sequence[str],
    *,
    sets: EvalSets | None = None,
    user_data: Sequence[UserData] = (),
    metrics: Sequence[str] = DEFAULT_RETRIEVAL_METRICS,
    use_faiss: bool = False,
    batch_size: int = 32,
    long_text: str = "truncate",
) -> list[CrossalignEvaluator]:
    """The evaluators of ``suites`` over the LibreOffice sets and the user data, in run order.

    Args:
        suites: From :func:`parse_suites`.
        sets: LibreOffice sets (None: user data only).
        user_data: From :func:`load_user_data` and :func:`benchmark_user_data` (a benchmark's sets run in the suites
            they belong to).
        metrics: Retrieval metrics (the first is the main score).
        use_faiss: Search retrieval pools with faiss.
        batch_size, long_text: Encoding options (used only when an evaluator is given a model, not a cache).

    Returns:
        Evaluators; their ``suite`` attribute says which suite each belongs to.

    Raises:
        ConfigError: Nothing is left to evaluate (e.g. only ``sts`` without STS data).
    """
    common: dict[str, Any] = {"batch_size": batch_size, "long_text": long_text}
    out: list[CrossalignEvaluator] = []
    for suite in suites:
        for s in sets.select(suite) if sets is not None else []:
            out.append(_set_evaluator(s, metrics=metrics, use_faiss=use_faiss, **common))
        for u in user_data:
            for s in u.sets or []:
                if s.suite == suite:
                    out.append(_set_evaluator(s, metrics=metrics, use_faiss=use_faiss, **common))
            if u.kind == "retrieval" and u.retrieval is not None:
                multilingual = len(u.retrieval.doc_langs) > 1
                if suite == "retrieval":
                    out.append(
                        RetrievalEvaluator(u.retrieval, metrics=metrics, task=u.name, use_faiss=use_faiss, **common)
                    )
                elif suite == "mixed-pool" and multilingual:
                    out.append(MixedPoolEvaluator(u.retrieval, suite="mixed-pool", task=u.name, **common))
            elif u.kind == "sts" and u.sts is not None and suite == "sts":
                out.append(STSEvaluator(u.sts, task=u.name, **common))
    if not out:
        raise ConfigError(
            "nothing to evaluate for these suites and data",
            hint="give languages (--langs) for the LibreOffice sets, --data for your own data, or a --benchmark with "
            "sets in these suites (bitext benchmarks: --suite bitext; question-passage ones: retrieval, mixed-pool)",
        )
    return out
