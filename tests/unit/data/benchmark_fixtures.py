"""Tiny local copies of the standard benchmarks, each in its hub repository's layout (``README.md`` ``configs:``
block naming the data files of every configuration, as ``datasets.load_dataset(dir, config)`` reads them) and with
its exact column names. All texts are invented here ("Passage 2 in German ..."): nothing is copied from the
benchmarks.

Every text names its passage/question/sentence number, so a test can check which record went where.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

LANG_WORDS = {"en": "English", "de": "German", "km": "Khmer"}


def _readme(root: Path, configs: Mapping[str, Sequence[tuple[str, str]]]) -> None:
    """``configs: [{config_name, data_files: [{split, path}]}]`` front matter, as hub dataset cards have it."""
    lines = ["---", "configs:"]
    for name, files in configs.items():
        lines += [f"- config_name: {name}", "  data_files:"]
        for split, path in files:
            lines += [f"  - split: {split}", f"    path: {path}"]
    lines += ["---", "", "# local test copy", ""]
    root.mkdir(parents=True, exist_ok=True)
    (root / "README.md").write_text("\n".join(lines), encoding="utf-8")


def _jsonl(path: Path, rows: Sequence[Mapping[str, Any]], *, gz: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)


# ------------------------------------------------------------------------------------------------------- Belebele
BELEBELE_CODES = {"en": "eng_Latn", "de": "deu_Latn", "km": "khm_Khmr"}
#: (passage number, question number) of each row, in file order: passage 1 has two questions.
BELEBELE_ROWS = [(1, 1), (1, 2), (2, 1), (3, 1)]


def belebele_copy(root: Path, *, drop_column: str | None = None) -> Path:
    """``facebook/belebele``: ``data/<code>.jsonl``, one configuration per language, split ``test``."""
    _readme(root, {code: [("test", f"data/{code}.jsonl")] for code in BELEBELE_CODES.values()})
    for lang, code in BELEBELE_CODES.items():
        rows = []
        for p, q in BELEBELE_ROWS:
            row = {
                "link": f"https://example.org/wiki/article_{p}",
                "question_number": q,
                "flores_passage": f"Passage {p} in {LANG_WORDS[lang]} about topic {p}.",
                "question": f"Question {q} on passage {p} in {LANG_WORDS[lang]}?",
                "mc_answer1": "one",
                "mc_answer2": "two",
                "mc_answer3": "three",
                "mc_answer4": "four",
                "correct_answer_num": "1",
                "dialect": code,
                "ds": "2023-05-03",
            }
            if drop_column and lang == "de":
                row.pop(drop_column)
            rows.append(row)
        _jsonl(root / "data" / f"{code}.jsonl", rows)
    return root


# ------------------------------------------------------------------------------------------------------- XQuAD-R
#: (question id, paragraph number) per row; paragraph 1 has two questions.
XQUAD_ROWS = [("5a1c", 1), ("3f2e", 1), ("9b7d", 2)]


def xquad_r_copy(root: Path) -> Path:
    """``google-research-datasets/xquad_r``: ``<lang>/validation-00000-of-00001.parquet``, split ``validation``,
    SQuAD columns ``id``, ``context``, ``question``, ``answers`` (``text``, ``answer_start``)."""
    import datasets

    _readme(root, {lang: [("validation", f"{lang}/validation-*")] for lang in ("en", "de")})
    for lang in ("en", "de"):
        word = LANG_WORDS[lang]
        rows = {
            "id": [qid for qid, _ in XQUAD_ROWS],
            "context": [f"Paragraph {p} in {word}: a short text." for _, p in XQUAD_ROWS],
            "question": [f"Question {qid} in {word}?" for qid, _ in XQUAD_ROWS],
            "answers": [{"text": ["short"], "answer_start": [18]} for _ in XQUAD_ROWS],
        }
        (root / lang).mkdir(parents=True, exist_ok=True)
        datasets.Dataset.from_dict(rows).to_parquet(str(root / lang / "validation-00000-of-00001.parquet"))
    return root


# ---------------------------------------------------------------------------------------------- Tatoeba and BUCC
def pair_bitext_copy(
    root: Path, pairs: Mapping[str, int], *, default_config: bool = True, blank: tuple[str, int] | None = None
) -> Path:
    """MTEB's bitext-mining layout (``mteb/tatoeba-bitext-mining``, ``mteb/bucc-bitext-mining``): a default
    configuration over every pair's file (left out with ``default_config=False``) plus one configuration per pair,
    split ``test``; rows ``sentence1``, ``sentence2`` and the pair in ``lang``. ``pairs`` gives the number of rows of
    each pair (``{"deu-eng": 3}``); ``blank=(pair, i)`` empties ``sentence1`` of row ``i`` of that pair."""
    configs: dict[str, list[tuple[str, str]]] = {"default": [("test", "test/*.jsonl.gz")]} if default_config else {}
    configs.update({pair: [("test", f"test/{pair}.jsonl.gz")] for pair in pairs})
    _readme(root, configs)
    for pair, n in pairs.items():
        src = pair.split("-")[0]
        rows = [
            {"sentence1": f"Sentence {i} in {src}.", "sentence2": f"Sentence {i} in English.", "lang": pair}
            for i in range(1, n + 1)
        ]
        if blank is not None and blank[0] == pair:
            rows[blank[1] - 1]["sentence1"] = " "
        _jsonl(root / "test" / f"{pair}.jsonl.gz", rows, gz=True)
    return root


# -------------------------------------------------------------------------------------------------------- FLORES+
FLORES_CODES = {"en": "eng_Latn", "de": "deu_Latn", "km": "khm_Khmr"}


def flores_copy(root: Path, *, n: int = 4) -> Path:
    """``openlanguagedata/flores_plus``: ``<split>/<code>.jsonl``, one configuration per language, splits ``dev``
    and ``devtest``; rows ``id``, ``iso_639_3``, ``iso_15924``, ``glottocode``, ``text``, ``url``, ``domain``,
    ``topic``, ``has_image``, ``has_hyperlink``, ``last_updated``. Khmer lacks sentence 2 in devtest."""
    splits = ("dev", "devtest")
    _readme(root, {code: [(s, f"{s}/{code}.jsonl") for s in splits] for code in FLORES_CODES.values()})
    for split in splits:
        for lang, code in FLORES_CODES.items():
            iso, script = code.split("_")
            rows = [
                {
                    "id": i,
                    "iso_639_3": iso,
                    "iso_15924": script,
                    "glottocode": "xxxx1234",
                    "text": f"{split} sentence {i} in {LANG_WORDS[lang]}.",
                    "url": f"https://example.org/{i}",
                    "domain": "wikinews",
                    "topic": "test",
                    "has_image": 0,
                    "has_hyperlink": 0,
                    "last_updated": "2.1",
                }
                for i in range(1, n + 1)
                if not (lang == "km" and split == "devtest" and i == 2)
            ]
            _jsonl(root / split / f"{code}.jsonl", rows)
    return root


# ----------------------------------------------------------------------------------------------------------- MLQA
#: (question id, paragraph number, languages that have the instance): instance "c3" exists in German only.
MLQA_ROWS = [("a1", 1, ("en", "de", "hi")), ("b2", 1, ("en", "de")), ("c3", 2, ("de",)), ("d4", 3, ("en", "de", "hi"))]


def mlqa_copy(root: Path, langs: Sequence[str] = ("en", "de", "hi")) -> Path:
    """``google/xtreme``'s MLQA: ``MLQA.<context>.<question>/<split>-00000-of-00001.parquet``, splits ``test`` and
    ``validation``; SQuAD columns ``id``, ``title``, ``context``, ``question``, ``answers``. A pair's file holds the
    instances that exist in both languages."""
    import datasets

    words = {**LANG_WORDS, "hi": "Hindi"}
    names = [f"MLQA.{c}.{q}" for c in langs for q in langs]
    _readme(root, {n: [(s, f"{n}/{s}-*") for s in ("test", "validation")] for n in names})
    for name in names:
        c, q = name.split(".")[1:]
        rows = [r for r in MLQA_ROWS if c in r[2] and q in r[2]]
        for split in ("test", "validation"):
            data = {
                "id": [qid for qid, _, _ in rows],
                "title": [f"Article {p}" for _, p, _ in rows],
                "context": [f"Paragraph {p} in {words[c]} ({split})." for _, p, _ in rows],
                "question": [f"Question {qid} in {words[q]}?" for qid, _, _ in rows],
                "answers": [{"answer_start": [0], "text": ["Paragraph"]} for _ in rows],
            }
            (root / name).mkdir(parents=True, exist_ok=True)
            datasets.Dataset.from_dict(data).to_parquet(str(root / name / f"{split}-00000-of-00001.parquet"))
    return root
