"""The LibreOffice evaluation sets, built from the page-disjoint test split only.

For every requested language ``x`` (English is the pivot ``en``), from the *same* sampled sections:

- **retrieval** (task ``libreoffice-sections/<x>``): headings are the queries, section bodies the documents; four
  :class:`~crossalign.data.records.RetrievalSet` objects, ``en→en``, ``x→x``, ``x→en``, ``en→x``; each query has
  one relevant document, its own section's body in the document language.
- **mixed pool**: the pool ``D_en ∪ D_x``; ``x`` and (as a reference) ``en`` headings query it; both parallel bodies
  of a query's section are relevant (multi-reference, Max@R; METHODS.md §2).
- **inclination pool**: the sections alternate into halves ``S1``/``S2``; ``x`` queries of ``S1`` search
  ``D_x(S1) ∪ D_en(S2)`` (no English parallel of any ``x`` document) and only the ``x`` body is relevant
  (EnglishFirst@1).
- **bitext** (task ``libreoffice-paragraphs``): aligned test-page paragraphs ``(x, en)`` are the gold pairs, plus
  train-page distractors on both sides; queries are the source side. Pairs without English are added as
  :attr:`EvalSetsConfig.non_english_pairs` says: by default one (the first two requested languages), or a list of
  pairs, or ``N`` pairs chosen by :func:`choose_non_english_pairs`.

Rules (ours, not from a paper):

- **Sampling.** A section's place is ``hash_unit(section id, seed)``, independent of the language; each language
  takes the first ``max_sections`` eligible sections in that order (fewer when fewer are eligible; nothing is
  padded), so languages share most English sections and adding a language never changes another's set.
- **Eligible**: on a page of ``split_name`` (test; ``"dev"`` for model selection), heading and complete body in
  ``en`` and ``x``, at least ``min_words`` English words, not an embedded copy.
- **Shared headings** get the page title in the query's language (:func:`~crossalign.data.text_rules.
  disambiguate_heading`, the rule training uses); no translated title drops the section (``"drop"`` drops them
  all). Then a section repeating a taken query or body text is skipped. What was dropped is counted.
- **Bitext distractors** come from train pages, split in halves by ``hash_unit(tuple id, seed + 1)`` (sources from
  one, targets from the other, so no distractor's translation is on the other side); texts equal to a gold text or
  repeated are skipped.

Deterministic given (languages, seed, caps, split spec, corpus version). Ids are ``<lang>:<corpus id>`` without the
constant ``text/`` and ``/section`` (``de:shared/01/about.html#hd_id3``); ``meta.xling_id`` keeps the corpus id.

Example:
    >>> sets = build_libreoffice_eval_sets(["de", "zh-CN"], max_sections=200)  # doctest: +SKIP
    >>> sets.write("eval-sets/")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from crossalign import __version__
from crossalign.data.libreoffice.align import SectionRecord
from crossalign.data.libreoffice.corpus import DEFAULT_MIN_WORDS
from crossalign.data.libreoffice.langs import SOURCE_LANGUAGE
from crossalign.data.libreoffice.parse import normalize_space
from crossalign.data.records import Document, ParallelTuple, Query, RetrievalSet
from crossalign.data.splits import SplitSpec, assign_split, hash_unit
from crossalign.data.text_rules import disambiguate_heading
from crossalign.errors import ConfigError
from crossalign.utils.atomic import atomic_write_json
from crossalign.utils.checks import check_count

__all__ = [
    "BUILDER_VERSION",
    "DEFAULT_BITEXT_DISTRACTORS",
    "DEFAULT_EVAL_LANGS",
    "DEFAULT_MAX_BITEXT_PAIRS",
    "DEFAULT_MAX_SECTIONS",
    "EVAL_SUITES",
    "PARAGRAPHS_TASK",
    "SECTIONS_TASK",
    "EvalSet",
    "EvalSets",
    "EvalSetsConfig",
    "build_bitext_set",
    "build_eval_sets",
    "build_libreoffice_eval_sets",
    "build_section_sets",
    "choose_non_english_pairs",
    "finish_set",
    "parallel_sets",
    "parse_non_english_pairs",
    "record_id",
    "resolve_non_english_pairs",
    "retrieval_set_digest",
    "select_sections",
]

#: Languages evaluated when neither languages nor data are given (evaluate, benchmarks): a high-resource Latin-script
#: language, Chinese, and two low-resource scripts (Devanagari, Khmer).
DEFAULT_EVAL_LANGS: tuple[str, ...] = ("de", "zh-CN", "hi", "km")
#: Version of the building rules (recorded in the provenance; bump when the sets change for the same inputs).
BUILDER_VERSION = 1
DEFAULT_MAX_SECTIONS = 500
DEFAULT_MAX_BITEXT_PAIRS = 500
DEFAULT_BITEXT_DISTRACTORS = 500
DEFAULT_SEED = 13
#: Task family of the section-based sets (the language is appended: ``libreoffice-sections/de``).
SECTIONS_TASK = "libreoffice-sections"
#: Task of the paragraph bitext sets (one task; each pair is a direction of it).
PARAGRAPHS_TASK = "libreoffice-paragraphs"
#: Suites the builder can make sets for.
EVAL_SUITES: tuple[str, ...] = ("retrieval", "mixed-pool", "inclination", "bitext")

PIVOT = SOURCE_LANGUAGE


@dataclass(frozen=True)
class EvalSetsConfig:
    """What to build and how big.

    Attributes:
        langs: Non-English languages (canonical tags); ``en`` is the pivot and always used.
        suites: Which of :data:`EVAL_SUITES` to build.
        max_sections: Sections per language (all when fewer are eligible).
        max_bitext_pairs: Gold paragraph pairs per language pair.
        bitext_distractors: Distractor paragraphs per side of a bitext set.
        seed: Sampling seed (the split has its own, ``split.seed``).
        split: The page-disjoint split.
        split_name: Whose pages give the gold data: ``"test"`` (default; evaluation) or ``"dev"`` (model selection
            during training, so the test pages stay unseen). Bitext distractors always come from ``train`` pages.
        min_words: Minimum English words of a section body / paragraph.
        shared_headings: ``"title"`` (prefix the page title) or ``"drop"``.
        non_english_pairs: The bitext pairs without English (each is one set, scored in both directions), in any
            form :func:`parse_non_english_pairs` reads: ``"auto"`` (default: the first two non-English languages,
            when there are two), None or ``()`` (none), an int ``N`` (``N`` pairs by :func:`choose_non_english_pairs`),
            or explicit ``(src, tgt)`` pairs (``[("de", "zh-CN"), ("eu", "km")]`` or ``"de:zh-CN,eu:km"``). Stored
            parsed (``"auto"``, an int or a tuple of pairs) and checked against ``langs`` on construction.

    Raises:
        ConfigError: A bad field; for ``non_english_pairs`` the message names the pair and the fix.
    """

    langs: tuple[str, ...]
    suites: tuple[str, ...] = EVAL_SUITES
    max_sections: int = DEFAULT_MAX_SECTIONS
    max_bitext_pairs: int = DEFAULT_MAX_BITEXT_PAIRS
    bitext_distractors: int = DEFAULT_BITEXT_DISTRACTORS
    seed: int = DEFAULT_SEED
    split: SplitSpec = field(default_factory=SplitSpec)
    split_name: Literal["test", "dev"] = "test"
    min_words: int = DEFAULT_MIN_WORDS
    shared_headings: Literal["title", "drop"] = "title"
    non_english_pairs: Any = "auto"

    def __post_init__(self) -> None:
        for name in ("max_sections", "max_bitext_pairs"):
            check_count(getattr(self, name), name, minimum=1, optional=False)
        check_count(self.bitext_distractors, "bitext_distractors", optional=False)
        if self.split_name not in ("test", "dev"):
            raise ConfigError(f"split_name must be 'test' or 'dev', got {self.split_name!r}")
        if self.shared_headings not in ("title", "drop"):
            raise ConfigError(f"shared_headings must be 'title' or 'drop', got {self.shared_headings!r}")
        bad = [s for s in self.suites if s not in EVAL_SUITES]
        if bad:
            raise ConfigError(f"unknown eval-set suite(s) {bad}", hint=f"choose from {', '.join(EVAL_SUITES)}")
        object.__setattr__(self, "non_english_pairs", parse_non_english_pairs(self.non_english_pairs))
        self.bitext_pairs()  # every pair checked now, before anything is built

    @property
    def targets(self) -> list[str]:
        """The non-English languages, in the order given."""
        return [lang for lang in self.langs if lang != PIVOT]

    def bitext_pairs(self) -> list[tuple[str, str]]:
        """``(source, target)`` pairs of the bitext sets: ``(x, en)`` for each x, then the pairs without English
        (:func:`resolve_non_english_pairs`)."""
        return [(x, PIVOT) for x in self.targets] + resolve_non_english_pairs(self.non_english_pairs, self.targets)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for provenance)."""
        d = asdict(self)
        d["split"] = self.split.to_dict()
        d["langs"] = list(self.langs)
        d["suites"] = list(self.suites)
        d["bitext_pairs"] = [list(p) for p in self.bitext_pairs()]
        return d


_PAIRS_FIELD = "non_english_pairs"
_PAIRS_FORMS = (
    "'auto', 'none', a number N, or pairs written SRC:TGT separated by commas (e.g. 'de:zh-CN,eu:km'; ':' because "
    "language tags contain '-'); in Python also a list of (src, tgt) tuples"
)


def parse_non_english_pairs(value: Any) -> Literal["auto"] | int | tuple[tuple[str, str], ...]:
    """Read a ``non_english_pairs`` value as written in Python or on the command line (the languages are checked
    later, against the evaluated ones, by :func:`resolve_non_english_pairs`).

    Accepted: ``"auto"``; None, ``""``, ``"none"`` or an empty sequence (no pair: ``()``); an int ``N >= 0`` or its
    digits (``"6"``; 0 is ``()``); pairs ``"de:zh-CN,eu:km"`` (``:`` inside a pair, ``,`` between pairs); a sequence
    whose items are ``(src, tgt)`` tuples or ``"src:tgt"`` strings.

    Returns:
        ``"auto"``, a positive int, or a tuple of ``(src, tgt)`` pairs in the order given.

    Raises:
        ConfigError: Any other value, naming it and the accepted forms.

    Example:
        >>> parse_non_english_pairs("de:zh-CN, eu:km"), parse_non_english_pairs("6"), parse_non_english_pairs(None)
        ((('de', 'zh-CN'), ('eu', 'km')), 6, ())
    """
    if value is None:
        return ()
    if isinstance(value, bool):
        raise ConfigError(f"{_PAIRS_FIELD}: {value!r} is not a pair count or a list of pairs", hint=_PAIRS_FORMS)
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"{_PAIRS_FIELD}: a number of pairs must be >= 0, got {value}", hint=_PAIRS_FORMS)
        return value or ()
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "none"):
            return ()
        if text.lower() == "auto":
            return "auto"
        if text.isdigit():
            return parse_non_english_pairs(int(text))
        return parse_non_english_pairs([item for item in text.split(",") if item.strip()])
    if not isinstance(value, Iterable):
        raise ConfigError(f"{_PAIRS_FIELD}: cannot read {value!r}", hint=_PAIRS_FORMS)
    pairs: list[tuple[str, str]] = []
    for item in value:
        if isinstance(item, str):
            parts = item.split(":")
        elif isinstance(item, Sequence) and all(isinstance(x, str) for x in item):
            parts = list(item)
        else:
            parts = []
        parts = [p.strip() for p in parts]
        if len(parts) != 2 or not all(parts):
            raise ConfigError(
                f"{_PAIRS_FIELD}: {item!r} is not a (source, target) pair",
                hint="write each pair as SRC:TGT (e.g. 'de:zh-CN') or a (src, tgt) tuple; a single pair in Python "
                "is [('de', 'zh-CN')], not ('de', 'zh-CN')",
            )
        pairs.append((parts[0], parts[1]))
    return tuple(pairs)


def choose_non_english_pairs(langs: Sequence[str], n: int) -> list[tuple[str, str]]:
    """``n`` pairs without English from ``langs`` (non-English, in the given order), by a fixed rule.

    Rule (ours): the languages ``l0 … l(k-1)`` sit on a circle in the given order. Pairs are taken by distance
    ``d = 1, 2, …, ⌊k/2⌋``; within one distance the start positions are ``i = 0, 2, 4, …`` then ``1, 3, 5, …``, and
    the pair is ``(l_i, l_(i+d) mod k)``, skipped when the same two languages were taken already (either
    direction). So the first pairs are ``(l0,l1), (l2,l3), …`` — every language is in one of the first ``⌈k/2⌉`` —
    then ``(l1,l2), (l3,l4), …``, then distance 2; each language is about as often source as target, and all
    ``k(k-1)/2`` pairs are reachable. ``n = 1`` gives ``(l0, l1)``, the ``"auto"`` pair.

    Raises:
        ConfigError: ``n`` is more than ``k(k-1)/2``.

    Example:
        >>> choose_non_english_pairs(["de", "zh-CN", "eu", "km", "hi"], 4)
        [('de', 'zh-CN'), ('eu', 'km'), ('hi', 'de'), ('zh-CN', 'eu')]
    """
    k = len(langs)
    most = k * (k - 1) // 2
    if n > most:
        raise ConfigError(
            f"{_PAIRS_FIELD}={n}: {k} non-English language{'s' if k != 1 else ''} ({', '.join(langs) or 'none'}) "
            f"give at most {most} pair{'s' if most != 1 else ''} without English",
            hint=f"ask for at most {most} pairs, or evaluate more languages",
        )
    out: list[tuple[str, str]] = []
    taken: set[frozenset[str]] = set()
    for d in range(1, k // 2 + 1):
        for i in [*range(0, k, 2), *range(1, k, 2)]:
            if len(out) == n:
                return out
            pair = (langs[i], langs[(i + d) % k])
            if frozenset(pair) not in taken:
                taken.add(frozenset(pair))
                out.append(pair)
    return out


def resolve_non_english_pairs(spec: Any, targets: Sequence[str]) -> list[tuple[str, str]]:
    """The pairs without English that ``spec`` (a :func:`parse_non_english_pairs` value) names for the non-English
    languages ``targets``, each checked: two different languages of ``targets``, no pair twice in either direction.

    Raises:
        ConfigError: A bad pair, named, with the fix.
    """
    spec = parse_non_english_pairs(spec)
    targets = list(targets)
    if spec == "auto":
        return choose_non_english_pairs(targets, 1) if len(targets) >= 2 else []
    if isinstance(spec, int):
        return choose_non_english_pairs(targets, spec)
    seen: dict[frozenset[str], str] = {}
    for src, tgt in spec:
        name = f"{src}:{tgt}"
        if PIVOT in (src, tgt):
            raise ConfigError(
                f"{_PAIRS_FIELD}: {name} includes English; every x-{PIVOT} pair is evaluated anyway",
                hint="name two non-English languages, e.g. " + (":".join(targets[:2]) if len(targets) > 1 else "de:km"),
            )
        if src == tgt:
            raise ConfigError(f"{_PAIRS_FIELD}: {name} has the same language twice", hint="name two languages")
        missing = [lg for lg in (src, tgt) if lg not in targets]
        if missing:
            raise ConfigError(
                f"{_PAIRS_FIELD}: {name} names {' and '.join(missing)}, not among the evaluated languages "
                f"({', '.join(targets) or 'none'})",
                hint=f"add {' and '.join(missing)} to the languages, or pick a pair of {', '.join(targets) or 'them'} "
                "(tags as the languages are written, e.g. zh-CN)",
            )
        key = frozenset((src, tgt))
        if key in seen:
            raise ConfigError(
                f"{_PAIRS_FIELD}: {name} repeats {seen[key]} (one set per pair, scored in both directions)",
                hint=f"drop {name}",
            )
        seen[key] = name
    return list(spec)


@dataclass
class EvalSet:
    """One evaluation unit: a retrieval set and the suite/task it belongs to.

    Attributes:
        suite: ``retrieval``, ``mixed-pool``, ``inclination`` or ``bitext``.
        task: Task name (``libreoffice-sections/de``, ``libreoffice-paragraphs``).
        data: The queries, documents and judgments, every language explicit.
    """

    suite: str
    task: str
    data: RetrievalSet

    @property
    def name(self) -> str:
        """``<task>/<suite-specific direction>``, e.g. ``libreoffice-sections/de/de-en``."""
        return self.data.name

    def describe(self) -> dict[str, Any]:
        """Sizes, languages and the content digest."""
        return {
            "suite": self.suite,
            "task": self.task,
            **self.data.describe(),
            "digest": self.data.provenance["digest"],
        }


def retrieval_set_digest(rs: RetrievalSet) -> str:
    """sha256 over the set's content (ids, texts, languages, judgments), independent of record order.

    Two builds with the same inputs give the same digest; it is the ``dataset_revision`` of the MTEB result files.
    """
    h = hashlib.sha256(b"crossalign-retrieval-set-v1\0")
    for q in sorted(rs.queries, key=lambda r: r.id):
        h.update(json.dumps(["q", q.id, q.lang, q.text], ensure_ascii=False).encode() + b"\0")
    for d in sorted(rs.documents, key=lambda r: r.id):
        h.update(json.dumps(["d", d.id, d.lang, d.text], ensure_ascii=False).encode() + b"\0")
    for qid in sorted(rs.qrels):
        h.update(json.dumps(["r", qid, sorted(rs.qrels[qid].items())]).encode() + b"\0")
    return h.hexdigest()


@dataclass
class EvalSets:
    """All sets of one build, with the provenance that makes them reproducible.

    Attributes:
        sets: The sets, in build order (per language: retrieval ×4, mixed-pool, inclination; then bitext).
        config: How they were built.
        provenance: Corpus packages and versions, split spec, caps, per-language counts and what was dropped.
    """

    sets: list[EvalSet]
    config: EvalSetsConfig
    provenance: dict[str, Any]

    def select(self, suite: str) -> list[EvalSet]:
        """The sets of one suite."""
        return [s for s in self.sets if s.suite == suite]

    def counts(self) -> dict[str, dict[str, Any]]:
        """``set name -> describe()``."""
        return {s.name: s.describe() for s in self.sets}

    def write(self, directory: str | os.PathLike[str]) -> Path:
        """Write every set as a retrieval-set directory (``<directory>/<suite>/<set name>/``, the documented
        ``queries.jsonl`` / ``corpus.jsonl`` / ``qrels.tsv`` / ``meta.json`` format) plus ``provenance.json``.
        """
        from crossalign.data.io import write_retrieval_set

        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        for s in self.sets:
            write_retrieval_set(s.data, root / s.suite / s.name)
        atomic_write_json(
            root / "provenance.json", {"config": self.config.to_dict(), **self.provenance, "sets": self.counts()}
        )
        return root


# ----------------------------------------------------------------------------------------------------- sections
def _query_text(section: SectionRecord, lang: str, mode: str) -> str | None:
    # The same rule the training-data builders use, so queries look alike in training and in evaluation.
    rule = "skip" if mode == "drop" else "title"
    return disambiguate_heading(section.headings[lang], section.titles.get(lang), section.heading_shared, rule)


@dataclass
class SelectedSection:
    """A sampled section with its query texts (``en`` and ``x``) after disambiguation."""

    record: SectionRecord
    queries: dict[str, str]


def select_sections(
    sections: Iterable[SectionRecord], lang: str, config: EvalSetsConfig
) -> tuple[list[SelectedSection], dict[str, int]]:
    """The test sections of ``lang`` for the section sets, in sample order, with their query texts.

    Args:
        sections: Section records (any split; only pages of ``config.split_name`` are used), with ``en`` and
            ``lang`` texts.
        lang: The target language (``en`` alone gives an English-only selection).
        config: Caps, seed, split and the shared-heading policy.

    Returns:
        ``(selected, counts)``: at most ``config.max_sections`` sections and what happened to the others
        (``test_aligned``, ``shared_heading_no_title``, ``shared_heading_dropped``, ``duplicate_query``,
        ``duplicate_body``, ``selected``, ``over_cap``).
    """
    langs = [PIVOT] if lang == PIVOT else [PIVOT, lang]
    counts: Counter[str] = Counter()
    eligible: list[tuple[float, SectionRecord]] = []
    for s in sections:
        if s.duplicate or assign_split(s.page, config.split) != config.split_name:
            continue
        if not all(lg in s.headings and lg in s.bodies for lg in langs):
            continue
        if len(s.bodies[PIVOT].split()) < config.min_words:
            continue
        eligible.append((hash_unit(s.id, config.seed), s))
    counts["test_aligned"] = len(eligible)
    eligible.sort(key=lambda t: (t[0], t[1].id))
    seen_q: dict[str, set[str]] = {lg: set() for lg in langs}
    seen_b: dict[str, set[str]] = {lg: set() for lg in langs}
    out: list[SelectedSection] = []
    for _, s in eligible:
        if len(out) >= config.max_sections:
            counts["over_cap"] += 1
            continue
        queries = {lg: _query_text(s, lg, config.shared_headings) for lg in langs}
        if any(q is None for q in queries.values()):
            counts["shared_heading_dropped" if config.shared_headings == "drop" else "shared_heading_no_title"] += 1
            continue
        if any(queries[lg] in seen_q[lg] for lg in langs):
            counts["duplicate_query"] += 1
            continue
        bodies = {lg: normalize_space(s.bodies[lg]) for lg in langs}
        if any(bodies[lg] in seen_b[lg] for lg in langs):
            counts["duplicate_body"] += 1
            continue
        for lg in langs:
            seen_q[lg].add(queries[lg])  # type: ignore[arg-type]
            seen_b[lg].add(bodies[lg])
        out.append(SelectedSection(s, {lg: q for lg, q in queries.items() if q is not None}))
    counts["selected"] = len(out)
    return out, dict(counts)


def record_id(lang: str, key: str) -> str:
    """``<lang>:<key>`` with whitespace replaced (ids go into TREC run files as they are)."""
    return re.sub(r"\s", "_", f"{lang}:{key}")


def _sid(lang: str, corpus_id: str) -> str:
    """:func:`record_id` of a help record without its id's constant ``text/`` and ``/section`` parts."""
    return record_id(lang, corpus_id.removeprefix("text/").removesuffix("/section"))


def _query(sel: SelectedSection, lang: str) -> Query:
    s = sel.record
    return Query(_sid(lang, s.id), sel.queries[lang], lang, {"xling_id": s.id, "page": s.page})


def _doc(sel: SelectedSection, lang: str) -> Document:
    s = sel.record
    return Document(_sid(lang, s.id), s.bodies[lang], lang, s.titles.get(lang), {"xling_id": s.id, "page": s.page})


def finish_set(rs: RetrievalSet, provenance: Mapping[str, Any]) -> RetrievalSet:
    """Add ``provenance``, validate, and record the content digest (:func:`retrieval_set_digest`)."""
    rs.provenance.update(provenance)
    rs.validate()
    rs.provenance["digest"] = retrieval_set_digest(rs)
    return rs


def parallel_sets(
    task: str,
    lang: str,
    keys: Sequence[str],
    doc_keys: Sequence[str],
    relevant: Callable[[str], str],
    query: Callable[[str, str], Query],
    doc: Callable[[str, str], Document],
    *,
    suites: Sequence[str],
    provenance: Mapping[str, Any],
    kind: str = "retrieval",
    mixed_relevant: str = "both parallel",
) -> list[EvalSet]:
    """The sets of parallel items: the questions ``keys`` and documents ``doc_keys`` exist in ``en`` and ``lang``
    (= ``x``); ``relevant(key)`` is a question's one relevant document key; ``query(lang, key)`` and
    ``doc(lang, key)`` make the records.

    Returns:
        With ``retrieval`` in ``suites``, retrieval sets in the four directions ``en→en``, ``x→x``, ``x→en``,
        ``en→x`` (only ``en→en`` when ``x`` is ``en``; provenance ``kind``); with ``mixed-pool``, the mixed pool:
        ``x`` and ``en`` queries over ``D_en ∪ D_x``, both parallel documents relevant (``mixed_relevant``).
    """
    out: list[EvalSet] = []
    if "retrieval" in suites:
        directions = [(PIVOT, PIVOT)] if lang == PIVOT else [(PIVOT, PIVOT), (lang, lang), (lang, PIVOT), (PIVOT, lang)]
        for ql, dl in directions:
            queries = [query(ql, k) for k in keys]
            qrels = {q.id: {doc(dl, relevant(k)).id: 1} for q, k in zip(queries, keys)}
            rs = RetrievalSet(queries, [doc(dl, p) for p in doc_keys], qrels, name=f"{task}/{ql}-{dl}", validate=False)
            out.append(EvalSet("retrieval", task, finish_set(rs, {**provenance, "kind": kind})))
    if "mixed-pool" in suites and lang != PIVOT:
        queries = [query(ql, k) for ql in (lang, PIVOT) for k in keys]
        docs = [doc(dl, p) for dl in (PIVOT, lang) for p in doc_keys]
        qrels = {
            q.id: {doc(PIVOT, relevant(k)).id: 1, doc(lang, relevant(k)).id: 1} for q, k in zip(queries, 2 * list(keys))
        }
        rs = RetrievalSet(queries, docs, qrels, name=f"{task}/mixed", validate=False)
        extra = {"kind": "mixed-pool", "relevant": mixed_relevant}
        out.append(EvalSet("mixed-pool", task, finish_set(rs, {**provenance, **extra})))
    return out


def build_section_sets(
    selected: Sequence[SelectedSection], lang: str, config: EvalSetsConfig, *, provenance: dict[str, Any] | None = None
) -> list[EvalSet]:
    """The section-based sets of one language from :func:`select_sections` output.

    Args:
        selected: The sampled sections (with ``en`` and ``lang`` texts).
        lang: The target language ``x`` (``en``: only the ``en→en`` retrieval set).
        config: Which suites to build.
        provenance: Added to every set's provenance.

    Returns:
        The retrieval sets and the mixed pool of :func:`parallel_sets` (a section's body is its query's relevant
        document); the inclination pool (``x`` queries of the first half over ``D_x(S1) ∪ D_en(S2)``, only ``d_x``
        relevant) — each when its suite is requested and there is data for it.
    """
    task = f"{SECTIONS_TASK}/{lang}"
    base = {"builder": "crossalign.data.eval_sets", "builder_version": BUILDER_VERSION, **(provenance or {})}
    if not selected:
        return []
    by_id = {s.record.id: s for s in selected}
    out = parallel_sets(
        task,
        lang,
        list(by_id),
        list(by_id),
        lambda k: k,
        lambda lg, k: _query(by_id[k], lg),
        lambda lg, k: _doc(by_id[k], lg),
        suites=config.suites,
        provenance=base,
        kind="section-retrieval",
    )
    if lang == PIVOT:
        return out
    if "inclination" in config.suites and len(selected) >= 2:
        s1, s2 = list(selected[0::2]), list(selected[1::2])
        queries = [_query(s, lang) for s in s1]
        docs = [_doc(s, lang) for s in s1] + [_doc(s, PIVOT) for s in s2]
        qrels = {_sid(lang, s.record.id): {_sid(lang, s.record.id): 1} for s in s1}
        rs = RetrievalSet(queries, docs, qrels, name=f"{task}/inclination", validate=False)
        extra = {
            "kind": "inclination",
            "relevant": f"the {lang} document only",
            "halves": "S1 = sections 1, 3, 5, ... of the sample (queries and x documents), S2 = 2, 4, 6, ... "
            "(English documents): no English parallel of an x document is in the pool",
        }
        out.append(EvalSet("inclination", task, finish_set(rs, {**base, **extra})))
    return out


# ------------------------------------------------------------------------------------------------------- bitext
def build_bitext_set(
    paragraphs: Iterable[ParallelTuple],
    src: str,
    tgt: str,
    config: EvalSetsConfig,
    *,
    provenance: dict[str, Any] | None = None,
) -> tuple[EvalSet | None, dict[str, int]]:
    """A bitext-mining set: gold ``(src, tgt)`` paragraph pairs of test pages plus train-page distractors.

    Args:
        paragraphs: Aligned paragraph tuples with ``meta["page"]`` (e.g. ``LibreOfficeCorpus.parallel("paragraph")``).
        src: Source language (the queries).
        tgt: Target language (the documents).
        config: Caps, seed and split.
        provenance: Added to the set's provenance.

    Returns:
        ``(set or None when there is no gold pair, counts)``. Queries are the source paragraphs (gold first, then
        distractors), documents the target ones; qrels map each gold source to its target.
    """
    gold: list[tuple[float, ParallelTuple]] = []
    pool: list[tuple[float, ParallelTuple]] = []
    for t in paragraphs:
        if src not in t.texts and tgt not in t.texts:
            continue
        page = str(t.meta.get("page", t.id))
        split = assign_split(page, config.split)
        if split == config.split_name:
            if src in t.texts and tgt in t.texts:
                gold.append((hash_unit(t.id, config.seed), t))
        elif split == "train":
            pool.append((hash_unit(t.id, config.seed), t))
    counts: Counter[str] = Counter({"test_aligned": len(gold)})
    gold.sort(key=lambda p: (p[0], p[1].id))
    pool.sort(key=lambda p: (p[0], p[1].id))
    seen: dict[str, set[str]] = {src: set(), tgt: set()}
    chosen: list[ParallelTuple] = []
    for _, t in gold:
        if len(chosen) >= config.max_bitext_pairs:
            break
        a, b = normalize_space(t.texts[src]), normalize_space(t.texts[tgt])
        if a in seen[src] or b in seen[tgt]:
            counts["duplicate_text"] += 1
            continue
        seen[src].add(a)
        seen[tgt].add(b)
        chosen.append(t)
    if not chosen:
        return None, dict(counts)
    src_distractors: list[ParallelTuple] = []
    tgt_distractors: list[ParallelTuple] = []
    for _, t in pool:
        side = src if hash_unit(t.id, config.seed + 1) < 0.5 else tgt
        bucket = src_distractors if side == src else tgt_distractors
        if len(bucket) >= config.bitext_distractors or side not in t.texts:
            continue
        text = normalize_space(t.texts[side])
        if text in seen[side]:
            counts["duplicate_distractor"] += 1
            continue
        seen[side].add(text)
        bucket.append(t)
    counts.update(gold_pairs=len(chosen), src_distractors=len(src_distractors), tgt_distractors=len(tgt_distractors))

    def rec_meta(t: ParallelTuple, role: str) -> dict[str, Any]:
        return {"xling_id": t.id, "page": t.meta.get("page"), "role": role}

    queries = [Query(_sid(src, t.id), t.texts[src], src, rec_meta(t, "gold")) for t in chosen]
    queries += [Query(_sid(src, t.id), t.texts[src], src, rec_meta(t, "distractor")) for t in src_distractors]
    docs = [Document(_sid(tgt, t.id), t.texts[tgt], tgt, None, rec_meta(t, "gold")) for t in chosen]
    docs += [Document(_sid(tgt, t.id), t.texts[tgt], tgt, None, rec_meta(t, "distractor")) for t in tgt_distractors]
    qrels = {_sid(src, t.id): {_sid(tgt, t.id): 1} for t in chosen}
    rs = RetrievalSet(queries, docs, qrels, name=f"{PARAGRAPHS_TASK}/{src}-{tgt}", validate=False)
    extra = {
        "builder": "crossalign.data.eval_sets",
        "builder_version": BUILDER_VERSION,
        "kind": "bitext",
        "gold": f"aligned paragraphs of {config.split_name} pages",
        "distractors": "paragraphs of train pages; source and target distractors from disjoint halves",
        "counts": dict(counts),
        **(provenance or {}),
    }
    return EvalSet("bitext", PARAGRAPHS_TASK, finish_set(rs, extra)), dict(counts)


# ------------------------------------------------------------------------------------------------------ together
def build_eval_sets(
    sections: Sequence[SectionRecord],
    paragraphs: Sequence[ParallelTuple],
    config: EvalSetsConfig,
    *,
    provenance: dict[str, Any] | None = None,
) -> EvalSets:
    """Build every requested set from section records and paragraph tuples (pure: no I/O).

    Args:
        sections: Section records with ``en`` and the target languages (any split).
        paragraphs: Aligned paragraph tuples with ``meta["page"]`` (any split); only needed for ``bitext``.
        config: What to build.
        provenance: Corpus provenance (packages, versions) recorded with the sets.

    Example:
        >>> sets = build_eval_sets(records, paragraphs, EvalSetsConfig(langs=("de",)))  # doctest: +SKIP
    """
    targets = config.targets or [PIVOT]
    sets: list[EvalSet] = []
    per_lang: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    shared = {"split": config.split_name, "split_spec": config.split.to_dict()}
    section_suites = {"retrieval", "mixed-pool", "inclination"} & set(config.suites)
    if section_suites:
        for lang in targets:
            selected, counts = select_sections(sections, lang, config)
            per_lang[lang] = {"sections": counts}
            if not selected:
                skipped[lang] = "no aligned test section"
                continue
            sets.extend(build_section_sets(selected, lang, config, provenance=shared))
    if "bitext" in config.suites and config.targets:
        for src, tgt in config.bitext_pairs():
            bset, counts = build_bitext_set(paragraphs, src, tgt, config, provenance=shared)
            per_lang.setdefault(src, {})[f"bitext_{src}-{tgt}"] = counts
            if bset is None:
                skipped[f"bitext {src}-{tgt}"] = "no aligned test paragraph pair"
            else:
                sets.append(bset)
    prov = {
        "builder": "crossalign.data.eval_sets",
        "builder_version": BUILDER_VERSION,
        "crossalign_version": __version__,
        "split": config.split_name,
        "split_spec": config.split.to_dict(),
        "caps": {
            "max_sections": config.max_sections,
            "max_bitext_pairs": config.max_bitext_pairs,
            "bitext_distractors": config.bitext_distractors,
        },
        "seed": config.seed,
        "shared_headings": config.shared_headings,
        "per_language": per_lang,
        "skipped": skipped,
        "corpus": dict(provenance or {}),
    }
    return EvalSets(sets, config, prov)


def build_libreoffice_eval_sets(
    langs: str | Iterable[str],
    *,
    corpus: Any = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    **config: Any,
) -> EvalSets:
    """Open the LibreOffice help in ``langs`` (+ English) and build the evaluation sets from its test split.

    Args:
        langs: Target languages (``"de,zh-CN,hi,km"`` or a list; ``en`` may be included and is the pivot anyway).
        corpus: An opened :class:`~crossalign.data.libreoffice.LibreOfficeCorpus` to reuse (it must hold ``langs``).
        cache_dir, download: For opening the help (:meth:`LibreOfficeCorpus.open`; progress: the enclosing
            :func:`~crossalign.utils.progress.progress_scope`).
        **config: :class:`EvalSetsConfig` fields (``suites``, ``max_sections``, ``seed``, ``split_name``, ...).

    Returns:
        The :class:`EvalSets` (provenance: package names and versions, split spec, caps, counts).

    Raises:
        ConfigError: An unknown or invalid ``config`` field.
        UnknownLanguageError: A language is not a LibreOffice help language.
        CorpusError: A language cannot be obtained.
    """
    from crossalign.data.libreoffice import LibreOfficeCorpus
    from crossalign.data.libreoffice.langs import lo_lang_list

    wanted = lo_lang_list(langs)
    unknown = sorted(set(config) - {f.name for f in fields(EvalSetsConfig)} | ({"langs"} & set(config)))
    if unknown:
        raise ConfigError(f"unknown eval-set option(s) {', '.join(unknown)}", hint="see EvalSetsConfig")
    if "suites" in config:
        config["suites"] = tuple(config["suites"])
    cfg = EvalSetsConfig(langs=tuple(wanted), **{k: v for k, v in config.items() if v is not None or k != "split"})
    lo = corpus
    if lo is None:
        lo = LibreOfficeCorpus.open(wanted, cache_dir=cache_dir, download=download)
    all_langs = [PIVOT, *cfg.targets]
    sections: list[SectionRecord] = []
    if {"retrieval", "mixed-pool", "inclination"} & set(cfg.suites):
        sections = lo.sections(all_langs, min_words=cfg.min_words)
    paragraphs: list[ParallelTuple] = []
    if "bitext" in cfg.suites and cfg.targets:
        paragraphs = lo.parallel("paragraph", langs=all_langs, min_words=cfg.min_words).tuples
    prov = lo.provenance()
    corpus_prov = {
        "corpus": prov.get("corpus"),
        "license": prov.get("license"),
        "packages": {
            lang: {k: v for k, v in p.items() if k in ("package", "version", "folder", "source")}
            for lang, p in prov.get("packages", {}).items()
        },
        "parser_version": prov.get("parser_version"),
        "rules": prov.get("rules"),
    }
    return build_eval_sets(sections, paragraphs, cfg, provenance=corpus_prov)
