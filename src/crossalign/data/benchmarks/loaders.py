"""One loader per benchmark: its hub layout (configurations, splits, columns) → canonical evaluation sets.

Every loader has the signature ``loader(source, langs, split, task) -> list[EvalSet]`` where ``langs`` maps each
requested crossalign tag to the benchmark's configuration name (``{"de": "deu_Latn"}``); the registry
(:mod:`crossalign.data.benchmarks`) resolves names, languages and splits before a loader runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from crossalign.data.benchmarks.hub import HubSource, config_names, iter_rows, load_split
from crossalign.data.benchmarks.sets import PIVOT, bitext_set, parallel_retrieval_sets
from crossalign.data.eval_sets import EvalSet
from crossalign.errors import DataFormatError

__all__ = ["load_belebele", "load_flores", "load_mlqa", "load_pair_bitext", "load_xquad_r"]


def _where(source: HubSource, config: str | None, split: str) -> str:
    return f"{source.hub_id} {config or 'default'}/{split}"


def _per_language(
    source: HubSource, langs: Mapping[str, str], split: str, english: str
) -> Iterator[tuple[str, Any, str]]:
    """``(tag, split rows, where)`` of English (configuration ``english``), then of every other language."""
    for tag in [PIVOT, *[t for t in langs if t != PIVOT]]:
        config = langs.get(tag, english)
        yield tag, load_split(source, config, split), _where(source, config, split)


# ----------------------------------------------------------------------------------------------------- Belebele
def load_belebele(source: HubSource, langs: Mapping[str, str], split: str, task: str) -> list[EvalSet]:
    """Belebele: one configuration per language (``eng_Latn``, ``deu_Latn``, ...), split ``test``; rows ``link``,
    ``question_number``, ``flores_passage``, ``question`` (plus the multiple-choice answers, unused).

    A passage is identified by its ``link`` (the FLORES source article; the same in every language), a question by
    ``(link, question_number)``; a question's relevant passage is its own ``flores_passage``. Passage keys
    (``p1``, ``p2``, ...) follow the English file's order.
    """
    tables: dict[str, tuple[dict[str, str], dict[str, str], dict[str, str]]] = {}
    link_key: dict[str, str] = {}
    for tag, ds, where in _per_language(source, langs, split, "eng_Latn"):
        questions: dict[str, str] = {}
        passages: dict[str, str] = {}
        relevant: dict[str, str] = {}
        rows = iter_rows(ds, ("flores_passage", "question", "link"), where=where, id_columns=("question_number",))
        for _, row in rows:
            link = row["link"]
            if tag == PIVOT and link not in link_key:
                link_key[link] = f"p{len(link_key) + 1}"
            pkey = link_key.get(link)
            if pkey is None:  # a passage English does not have: no parallel, not usable
                continue
            qkey = f"{pkey}-q{row['question_number']}"
            questions[qkey] = row["question"]
            passages.setdefault(pkey, row["flores_passage"])
            relevant[qkey] = pkey
        tables[tag] = (questions, passages, relevant)
    return _parallel(task, langs, tables)


def _parallel(
    task: str, langs: Mapping[str, str], tables: Mapping[str, tuple[dict[str, str], dict[str, str], dict[str, str]]]
) -> list[EvalSet]:
    relevant = tables[PIVOT][2]
    out: list[EvalSet] = []
    for tag in langs:
        qs = {lg: tables[lg][0] for lg in {PIVOT, tag}}
        ps = {lg: tables[lg][1] for lg in {PIVOT, tag}}
        out.extend(parallel_retrieval_sets(f"{task}/{tag}", tag, qs, ps, relevant, provenance={"config": langs[tag]}))
    return out


# ------------------------------------------------------------------------------------------------ XQuAD-R, MLQA
def _qa_sets(task: str, tag: str, config: str, rows: Mapping[str, list[dict[str, Any]]]) -> list[EvalSet]:
    """Parallel SQuAD-style rows (``id``, ``context``, ``question``; the same ``id`` in every language) of English and
    ``tag`` as the sets of one language: question → its paragraph. A paragraph's key is the smallest question id
    among the English questions that share it; in ``tag`` the paragraph is that language's ``context`` of the same
    questions."""
    groups: dict[str, list[str]] = {}
    for row in rows[PIVOT]:
        groups.setdefault(row["context"], []).append(str(row["id"]))
    paragraph_of = {qid: min(ids) for ids in groups.values() for qid in ids}
    questions: dict[str, dict[str, str]] = {}
    passages: dict[str, dict[str, str]] = {}
    for lang, lang_rows in rows.items():
        qs: dict[str, str] = {}
        ps: dict[str, str] = {}
        for row in lang_rows:
            qid = str(row["id"])
            pkey = paragraph_of.get(qid)
            if pkey is not None:
                qs[qid] = row["question"]
                ps.setdefault(pkey, row["context"])
        questions[lang], passages[lang] = qs, ps
    return parallel_retrieval_sets(
        f"{task}/{tag}", tag, questions, passages, paragraph_of, provenance={"config": config}
    )


def load_xquad_r(source: HubSource, langs: Mapping[str, str], split: str, task: str) -> list[EvalSet]:
    """XQuAD-R (LAReQA): one configuration per language (``ar``, ``de``, ... ``zh``), split ``validation``; rows
    ``id``, ``context``, ``question``, ``answers`` in SQuAD form. The 1190 questions have the same ``id`` in every
    language.

    Retrieval here is question → *paragraph* (the question's ``context``): the hub copy has no sentence breaks, so
    LAReQA's sentence-level candidates cannot be rebuilt.
    """
    raw: dict[str, list[dict[str, Any]]] = {}
    for tag, ds, where in _per_language(source, langs, split, "en"):
        raw[tag] = [row for _, row in iter_rows(ds, ("context", "question"), where=where, id_columns=("id",))]
    out: list[EvalSet] = []
    for tag, config in langs.items():
        out.extend(_qa_sets(task, tag, config, {PIVOT: raw[PIVOT], tag: raw[tag]}))
    return out


def load_mlqa(source: HubSource, langs: Mapping[str, str], split: str, task: str) -> list[EvalSet]:
    """MLQA in XTREME's hub copy (``google/xtreme``): configuration ``MLQA.<context language>.<question language>``
    for every pair of ``ar``, ``de``, ``en``, ``es``, ``hi``, ``vi``, ``zh``; splits ``test`` and ``validation``;
    SQuAD rows ``id``, ``title``, ``context``, ``question``, ``answers``. Parallel instances share their ``id``.

    For a language ``x``, ``MLQA.en.x`` gives the English paragraphs and the ``x`` questions of the instances that
    exist in both languages, ``MLQA.x.en`` the ``x`` paragraphs and the English questions; the sets are question →
    its paragraph in the four directions plus the mixed pool, over exactly those instances (``langs`` maps ``x`` to
    its code, e.g. ``zh``).
    """

    def read(config: str) -> list[dict[str, Any]]:
        ds = load_split(source, config, split)
        where = _where(source, config, split)
        return [r for _, r in iter_rows(ds, ("context", "question"), where=where, id_columns=("id",))]

    out: list[EvalSet] = []
    for tag, code in langs.items():
        if code == "en":
            out.extend(_qa_sets(task, tag, "MLQA.en.en", {PIVOT: read("MLQA.en.en")}))
            continue
        en_x, x_en = read(f"MLQA.en.{code}"), read(f"MLQA.{code}.en")
        en_context = {str(r["id"]): r["context"] for r in en_x}
        x_question = {str(r["id"]): r["question"] for r in en_x}
        en_rows, x_rows = [], []
        for r in x_en:
            qid = str(r["id"])
            if qid in en_context:
                en_rows.append({"id": qid, "question": r["question"], "context": en_context[qid]})
                x_rows.append({"id": qid, "question": x_question[qid], "context": r["context"]})
        out.extend(_qa_sets(task, tag, f"MLQA.en.{code} + MLQA.{code}.en", {PIVOT: en_rows, tag: x_rows}))
    return out


# ------------------------------------------------------------------------------------------- Tatoeba and BUCC
def load_pair_bitext(source: HubSource, langs: Mapping[str, str], split: str, task: str) -> list[EvalSet]:
    """MTEB's bitext-mining layout (``mteb/tatoeba-bitext-mining``, ``mteb/bucc-bitext-mining``): the default
    configuration holds every pair, each row a gold pair ``sentence1`` (the non-English side) / ``sentence2``
    (English) with its pair in ``lang`` (``deu-eng``, ``de-en``); ``langs`` maps each tag to that pair name. A local
    copy without a default configuration is read pair by pair (one configuration per pair, as the hub repositories
    also declare them), and so is a hub revision without one.

    Each pair gives one bitext set ``x→en`` whose gold is row ``i`` ↔ row ``i`` (every sentence has its
    translation on the other side; no distractors, as in MTEB).
    """
    wanted = {pair: tag for tag, pair in langs.items()}
    configs = config_names(source)
    pair_rows: dict[str, Any] = {}
    if configs is not None and "default" not in configs:
        for pair in wanted:
            pair_rows[pair] = load_split(source, pair, split)
    else:
        ds = load_split(source, None, split)
        if "lang" not in ds.column_names:
            raise DataFormatError(
                f"{_where(source, None, split)}: missing column 'lang' (columns present: {', '.join(ds.column_names)})",
                field="lang",
                hint="the default configuration must name each row's pair in 'lang' (as MTEB's copies do)",
            )
        index: dict[str, list[int]] = {pair: [] for pair in wanted}
        for i, pair in enumerate(ds["lang"]):
            if pair in index:
                index[pair].append(i)
        missing = [pair for pair, found in index.items() if not found]
        if missing:
            present = sorted({str(lang) for lang in ds["lang"]})
            raise DataFormatError(
                f"{_where(source, None, split)}: no rows for {', '.join(missing)} (pairs present: "
                f"{', '.join(present[:30])}{', ...' if len(present) > 30 else ''})",
                field="lang",
                hint="choose pairs the copy has",
            )
        pair_rows = {pair: ds.select(idx) for pair, idx in index.items()}
    out = []
    for pair, tag in wanted.items():
        where = f"{_where(source, None, split)}, pair {pair}"
        items = [r for _, r in iter_rows(pair_rows[pair], ("sentence1", "sentence2"), where=where)]
        src = [(str(i), r["sentence1"]) for i, r in enumerate(items, start=1)]
        tgt = [(str(i), r["sentence2"]) for i, r in enumerate(items, start=1)]
        gold = [(k, k) for k, _ in src]
        out.append(bitext_set(task, tag, PIVOT, src, tgt, gold, provenance={"config": pair, "split": split}))
    return out


# ------------------------------------------------------------------------------------------------------- FLORES
def load_flores(source: HubSource, langs: Mapping[str, str], split: str, task: str) -> list[EvalSet]:
    """FLORES+ (``openlanguagedata/flores_plus``): one configuration per language (``eng_Latn``, ``deu_Latn``,
    ...), splits ``dev`` (997 sentences) and ``devtest`` (1012); rows ``id`` and ``text`` (plus language codes,
    URL, domain and topic). Sentences are aligned across languages by ``id``.

    Gives one bitext set ``x→en`` per language and, with two or more non-English languages, one pair without English
    (the first two, as the LibreOffice bitext sets do).
    """
    texts: dict[str, dict[str, str]] = {}
    for tag, ds, where in _per_language(source, langs, split, "eng_Latn"):
        side: dict[str, str] = {}
        for line, row in iter_rows(ds, ("text",), where=where, id_columns=("id",)):
            key = str(row["id"])
            if key in side:
                raise DataFormatError(
                    f"{where}: duplicate id {key!r}", line=line, field="id", hint="download the copy again"
                )
            side[key] = row["text"]
        texts[tag] = side
    targets = [t for t in langs if t != PIVOT]
    pairs = [(x, PIVOT) for x in targets]
    if len(targets) >= 2:
        pairs.append((targets[0], targets[1]))
    out = []
    for src, tgt in pairs:
        keys = [k for k in texts[src] if k in texts[tgt]]
        sources = [(k, texts[src][k]) for k in keys]
        targets_ = [(k, texts[tgt][k]) for k in keys]
        prov = {"configs": [langs.get(src), langs.get(tgt, "eng_Latn")], "split": split}
        out.append(bitext_set(task, src, tgt, sources, targets_, [(k, k) for k in keys], provenance=prov))
    return out
