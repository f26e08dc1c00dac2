"""Readers and writers for crossalign's data formats, validating by column name.

Formats (UTF-8; one JSON object per line for JSONL):

**Parallel text** — ``parallel.jsonl``::

    {"id": "page.html#par_1", "texts": {"en": "Print", "de": "Drucken"}, "meta": {"page": "..."}}

or line-aligned plain-text files, one per language (``--parallel en=file.en,de=file.de``): line *i* of every file is
the same meaning; files must have the same number of lines.

**Retrieval set** — a directory with::

    queries.jsonl   {"id": "q1", "text": "Drucken", "lang": "de"}            (extra keys -> meta)
    corpus.jsonl    {"id": "d1", "text": "Printing ...", "lang": "en", "title": "optional"}
    qrels.tsv       query_id<TAB>doc_id<TAB>relevance  (header optional; BEIR's "query-id corpus-id score" works)
    qrels.trec      written beside it: query_id 0 doc_id relevance (trec_eval's four columns; never read)
    meta.json       optional: {"name": ..., "provenance": {...}}

or a **BEIR folder** (``corpus.jsonl`` ``{"_id", "title", "text"}``, ``queries.jsonl`` ``{"_id", "text"}``,
``qrels/<split>.tsv``), whose records have no ``lang``: :func:`read_retrieval_set` takes the languages as
``query_lang``/``doc_lang`` defaults (``--query-lang``/``--doc-lang``) and the split as ``split`` (default ``test``).

Every error names the file, the 1-based line and the field, and says what to do. Writers are atomic.
Hugging Face ``datasets.Dataset`` objects convert both ways for parallel data (:func:`parallel_from_hf`,
:func:`parallel_to_hf`); rows are reported as ``row N`` (1-based).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crossalign.data.records import (
    Document,
    ParallelCorpus,
    ParallelTuple,
    Query,
    RetrievalSet,
    check_id,
    check_text,
)
from crossalign.errors import DataFormatError, UnknownLanguageError
from crossalign.languages import normalize_lang
from crossalign.utils.atomic import atomic_open, atomic_write_json

if TYPE_CHECKING:
    import datasets

PathLike = str | os.PathLike[str]


# ----------------------------------------------------------------------------------------------------------- text
_UTF8_HINT = "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"


def read_utf8(path: PathLike) -> str:
    """The whole file as text with universal newlines; bytes that are not UTF-8 raise :class:`DataFormatError`
    naming the line and column."""
    p = Path(path)
    data = p.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataFormatError(
            f"not UTF-8 (byte {data[exc.start]:#04x} at column {column})",
            path=p,
            line=line,
            hint=_UTF8_HINT,
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_json_object(path: PathLike, *, hint: str) -> dict[str, Any]:
    """A JSON file that must hold one object; not UTF-8, not JSON (line and column named) or another JSON value
    raise :class:`DataFormatError` with ``hint``."""
    p = Path(path)
    try:
        obj = json.loads(read_utf8(p))
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            f"not valid JSON ({exc.msg} at column {exc.colno})", path=p, line=exc.lineno, hint=hint
        ) from None
    if not isinstance(obj, dict):
        raise DataFormatError(f"expected a JSON object, got {type(obj).__name__}", path=p, hint=hint)
    return obj


def check_fields(
    obj: Mapping[str, Any],
    fields: Mapping[str, tuple[Callable[[Any], bool], str]],
    *,
    path: PathLike | None,
    where: str = "",
    unknown_hint: str,
    wrong_hint: str,
) -> None:
    """Reject keys not in ``fields`` and values whose check fails, naming the field (``where`` + key).

    Args:
        fields: Key -> (check, what the value must be, e.g. ``"an object"``).
        unknown_hint, wrong_hint: The fix; ``{key}`` and ``{what}`` are filled in.
    """
    for key, value in obj.items():
        if key not in fields:
            raise DataFormatError(
                f"unknown key {key!r} (known: {', '.join(fields)})",
                path=path,
                field=f"{where}{key}",
                hint=unknown_hint.format(key=key, what=""),
            )
        check, what = fields[key]
        if not check(value):
            raise DataFormatError(
                f"must be {what}, got {type(value).__name__} ({json.dumps(value, default=str)[:60]})",
                path=path,
                field=f"{where}{key}",
                hint=wrong_hint.format(key=key, what=what),
            )


def _existing_file(path: PathLike) -> Path:
    p = Path(path)
    if not p.is_file():
        raise DataFormatError("file not found", path=p, hint="check the path")
    return p


# ----------------------------------------------------------------------------------------------------------- JSONL
def iter_jsonl(path: PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line; a line that is not a JSON object raises
    :class:`DataFormatError` with the file and line.

    A file that holds one JSON array of objects (a pretty-printed ``.json`` export) is read too, each object with
    the line it starts on; a byte-order mark before the first line is ignored."""
    p = _existing_file(path)
    if _starts_with(p, b"["):
        yield from _iter_json_array(p)
        return
    with p.open("rb") as fh:
        for lineno, raw_bytes in enumerate(fh, start=1):
            raw = _decode_line(raw_bytes, p, lineno)
            if lineno == 1:
                raw = raw.removeprefix("\ufeff")  # a byte-order mark some editors write
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                pretty = raw.strip() in ("{", "[")
                raise DataFormatError(
                    f"not valid JSON ({exc.msg} at column {exc.colno})"
                    + ("; the file looks pretty-printed, but JSONL expects one object per line" if pretty else ""),
                    path=p,
                    line=lineno,
                    hint="each line must be one complete JSON object; fix or remove this line"
                    + (" (jq -c . file.json > file.jsonl writes one object per line)" if pretty else ""),
                ) from None
            yield lineno, _json_object(obj, p, lineno, "each line")


def _json_object(obj: Any, path: Path, line: int, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise DataFormatError(
            f"expected a JSON object, got {type(obj).__name__}",
            path=path,
            line=line,
            hint=f'{where} must be one JSON object such as {{"id": ..., "text": ...}}',
        )
    return obj


def _decode_line(raw: bytes, path: Path, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"not UTF-8 (byte {raw[exc.start]:#04x} at column {exc.start + 1})",
            path=path,
            line=line,
            hint=_UTF8_HINT,
        ) from None


def _starts_with(path: Path, prefix: bytes) -> bool:
    """Whether the file's first byte other than a byte-order mark and whitespace is ``prefix``."""
    with path.open("rb") as fh:
        head = fh.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
    return head.startswith(prefix)


def _iter_json_array(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, object)`` for each element of a file holding one JSON array (``[{...}, {...}]``, pretty-printed
    or not); the line is where the element starts."""
    text = read_utf8(path).removeprefix("\ufeff")
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1

    def skip(i: int) -> int:
        while i < len(text) and text[i].isspace():
            i += 1
        return i

    def fail(i: int, what: str) -> DataFormatError:
        return DataFormatError(
            f"not valid JSON ({what})",
            path=path,
            line=text.count("\n", 0, i) + 1,
            hint="a .json file must hold one JSON array of objects, or use JSONL (one object per line)",
        )

    pos = skip(pos)
    if pos < len(text) and text[pos] == "]":
        return
    while True:
        line = text.count("\n", 0, pos) + 1
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise fail(exc.pos, exc.msg) from None
        yield line, _json_object(obj, path, line, "every element of the array")
        pos = skip(pos)
        if pos < len(text) and text[pos] == ",":
            pos = skip(pos + 1)
            continue
        if pos < len(text) and text[pos] == "]":
            if text[skip(pos + 1) :]:
                raise fail(skip(pos + 1), "extra data after the array")
            return
        raise fail(pos, "expected ',' or ']' after an element")


def require_keys(obj: Mapping[str, Any], keys: Iterable[str], *, path: PathLike | None, line: int | None) -> None:
    """Raise :class:`DataFormatError` for the first missing key, listing the keys that are present."""
    for key in keys:
        if key not in obj:
            present = ", ".join(sorted(obj)) or "none"
            raise DataFormatError(
                f"missing column '{key}' (columns present: {present})",
                path=path,
                line=line,
                field=key,
                hint=f"add '{key}' to every row (or rename the column that holds it)",
            )


def write_jsonl(path: PathLike, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write rows as JSONL atomically; returns the number of rows."""
    n = 0
    with atomic_open(path, "w") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _lang(value: Any, *, path: PathLike | None, line: int | None, field: str) -> str:
    if not isinstance(value, str):
        raise DataFormatError(
            f"language must be a string, got {value!r:.40}",
            path=path,
            line=line,
            field=field,
            hint='write the language as a BCP-47 tag string such as "de" or "zh-CN"',
        )
    try:
        return normalize_lang(value, field=field)
    except UnknownLanguageError as exc:
        raise DataFormatError(exc.message, path=path, line=line, field=field, hint=exc.hint) from None


# -------------------------------------------------------------------------------------------------------- parallel
def _parallel_row(obj: Mapping[str, Any], *, path: PathLike | None, line: int) -> ParallelTuple:
    require_keys(obj, ["id", "texts"], path=path, line=line)
    tid = check_id(obj["id"], path=str(path) if path else None, line=line)
    texts_in = obj["texts"]
    if not isinstance(texts_in, Mapping) or not texts_in:
        raise DataFormatError(
            "'texts' must be a non-empty object mapping language codes to texts",
            path=path,
            line=line,
            field="texts",
            hint='write it as {"en": "...", "de": "..."}',
        )
    texts: dict[str, str] = {}
    for lang, text in texts_in.items():
        canon = _lang(lang, path=path, line=line, field=f"texts.{lang}")
        if canon in texts:
            raise DataFormatError(
                f"language {canon!r} appears twice (as {lang!r})",
                path=path,
                line=line,
                field=f"texts.{lang}",
                hint="keep one text per language (codes are case- and separator-insensitive: zh_cn is zh-CN)",
            )
        texts[canon] = check_text(text, path=str(path) if path else None, line=line, field=f"texts.{lang}")
    meta = obj.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise DataFormatError(
            f"'meta' must be an object, got {type(meta).__name__}",
            path=path,
            line=line,
            field="meta",
            hint='write it as {"key": value, ...} or leave it out',
        )
    return ParallelTuple(tid, texts, dict(meta))


def _unique(tuples: Iterable[tuple[int, Any]], *, path: PathLike | None, what: str) -> list[Any]:
    seen: dict[str, int] = {}
    out = []
    for line, rec in tuples:
        if rec.id in seen:
            raise DataFormatError(
                f"duplicate {what} id {rec.id!r} (first at line {seen[rec.id]})",
                path=path,
                line=line,
                field="id",
                hint=f"{what} ids must be unique: rename one of the two or drop the duplicate line",
            )
        seen[rec.id] = line
        out.append(rec)
    return out


def read_parallel_jsonl(path: PathLike, *, name: str | None = None) -> ParallelCorpus:
    """Read a ``parallel.jsonl`` file (see the module docstring) into a validated :class:`ParallelCorpus`."""
    p = Path(path)
    tuples = _unique(
        ((line, _parallel_row(obj, path=p, line=line)) for line, obj in iter_jsonl(p)), path=p, what="tuple"
    )
    if not tuples:
        raise DataFormatError("no records", path=p, hint="the file is empty; expected one JSON object per line")
    return ParallelCorpus(tuples, name=name or p.stem, provenance={"source": str(p)}, validate=False)


def write_parallel_jsonl(corpus: ParallelCorpus, path: PathLike) -> int:
    """Write a corpus as ``parallel.jsonl`` atomically; returns the number of tuples written."""
    return write_jsonl(path, ({"id": t.id, "texts": dict(t.texts), "meta": dict(t.meta)} for t in corpus))


def read_parallel_text(files: Mapping[str, PathLike], *, id_prefix: str = "", name: str = "parallel") -> ParallelCorpus:
    """Read line-aligned plain-text files, one per language, into a :class:`ParallelCorpus`.

    Args:
        files: Language code -> file path. Line *i* of every file is the same meaning.
        id_prefix: Prefix of the generated tuple ids (``<prefix><line number>``).
        name: Corpus name.

    Raises:
        DataFormatError: files of different lengths (names both files and their line counts), blank lines
            (names the file and line), unknown language codes.
    """
    if len(files) < 2:
        raise DataFormatError(
            f"parallel text needs at least two languages, got {len(files)}",
            hint="pass one file per language, e.g. en=a.txt,de=b.txt",
        )
    columns: dict[str, list[str]] = {}
    paths: dict[str, Path] = {}
    for lang, fpath in files.items():
        canon = _lang(lang, path=fpath, line=None, field="language")
        p = _existing_file(fpath)
        lines = read_utf8(p).split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        columns[canon] = lines
        paths[canon] = p
    counts = {lang: len(lines) for lang, lines in columns.items()}
    if len(set(counts.values())) > 1:
        detail = ", ".join(f"{paths[lang]} ({lang}): {n} lines" for lang, n in counts.items())
        raise DataFormatError(
            f"parallel files are misaligned: {detail}",
            hint="line i of every file must translate line i of the others; fix the files so they have equal lengths",
        )
    n = next(iter(counts.values()))
    tuples = []
    for i in range(n):
        texts = {}
        for lang in columns:
            try:
                texts[lang] = check_text(columns[lang][i].rstrip("\r"), path=str(paths[lang]), line=i + 1, field=lang)
            except DataFormatError as exc:
                raise DataFormatError(
                    exc.message,
                    path=paths[lang],
                    line=i + 1,
                    field=lang,
                    hint=f"fill in the line, or delete line {i + 1} from every file so they stay aligned",
                ) from None
        tuples.append(ParallelTuple(f"{id_prefix}{i + 1}", texts, {"line": i + 1}))
    if not tuples:
        raise DataFormatError(
            "parallel files are empty", path=next(iter(paths.values())), hint="expected one text per line"
        )
    return ParallelCorpus(
        tuples, name=name, provenance={"files": {lang: str(p) for lang, p in paths.items()}}, validate=False
    )


def parallel_from_hf(dataset: datasets.Dataset, *, name: str = "parallel", id_column: str = "id") -> ParallelCorpus:
    """Convert a Hugging Face dataset to a :class:`ParallelCorpus`, validating by column name.

    Accepted layouts: ``id`` + ``texts`` (a dict column); ``translation`` (the HF translation layout, a dict column,
    ids generated when there is no ``id`` column); or ``id`` + one column per language code (``en``, ``de``, ...).
    """
    cols = list(dataset.column_names)
    has_id = id_column in cols
    tuples = []
    for i, row in enumerate(dataset):
        line = i + 1
        tid = check_id(row[id_column], line=line, field=id_column) if has_id else str(line)
        if "texts" in cols or "translation" in cols:
            key = "texts" if "texts" in cols else "translation"
            texts_in = row[key]
            if isinstance(texts_in, Mapping):  # HF fills absent languages of a dict column with None
                texts_in = {lang: text for lang, text in texts_in.items() if text is not None}
            meta = row.get("meta") or {}
            if isinstance(meta, str):
                try:
                    meta = json.loads(meta)
                except json.JSONDecodeError:
                    raise DataFormatError("'meta' is not valid JSON", line=line, field="meta") from None
            obj = {"id": tid, "texts": texts_in, "meta": meta}
        else:
            lang_cols = [c for c in cols if c not in (id_column, "meta")]
            texts = {}
            for c in lang_cols:
                try:
                    normalize_lang(c)
                except UnknownLanguageError:
                    raise DataFormatError(
                        f"column {c!r} is neither 'id', 'texts', 'translation' nor a language code",
                        line=line,
                        field=c,
                        hint="rename language columns to BCP-47 codes or use a 'texts' dict column",
                    ) from None
                if row[c] is not None:
                    texts[c] = row[c]
            obj = {"id": tid, "texts": texts}
        try:
            tuples.append((line, _parallel_row(obj, path=None, line=line)))
        except DataFormatError as exc:
            raise DataFormatError(f"row {line}: {exc.message}", field=exc.field, hint=exc.hint) from None
    return ParallelCorpus(
        _unique(tuples, path=None, what="tuple"), name=name, provenance={"source": "datasets.Dataset"}, validate=False
    )


def parallel_to_hf(corpus: ParallelCorpus) -> datasets.Dataset:
    """A Hugging Face dataset with columns ``id``, ``texts`` (one key per language, None where missing), ``meta``
    (JSON string)."""
    import datasets

    langs = corpus.languages
    return datasets.Dataset.from_dict(
        {
            "id": [t.id for t in corpus],
            "texts": [{lang: t.texts.get(lang) for lang in langs} for t in corpus],
            "meta": [json.dumps(dict(t.meta), ensure_ascii=False) for t in corpus],
        }
    )


# ------------------------------------------------------------------------------------------------------- retrieval
_QUERY_KEYS = {"id", "text", "lang"}
_QRELS_HEADER_NAMES = {"query_id", "query-id", "qid", "query", "topic"}
_DOC_KEYS = {"id", "text", "lang", "title"}


def _record_lang(obj: Mapping[str, Any], default: str | None, *, path: Path, line: int, option: str) -> str:
    """The record's own ``lang``, else the default language; neither raises naming the field and both fixes."""
    if "lang" in obj:
        return _lang(obj["lang"], path=path, line=line, field="lang")
    if default is not None:
        return default
    present = ", ".join(sorted(obj)) or "none"
    raise DataFormatError(
        f"missing column 'lang' (columns present: {present})",
        path=path,
        line=line,
        field="lang",
        hint=f"add a 'lang' field to every row, or give the language of rows without one: {option} CODE "
        f"(Python: {option.lstrip('-').replace('-', '_')}=CODE)",
    )


def _record_id(obj: dict[str, Any], path: Path, line: int) -> tuple[dict[str, Any], str]:
    """A query or document row with BEIR's ``_id`` read as ``id``, checked for ``id`` and ``text``; and its id."""
    if "_id" in obj and "id" not in obj:
        obj = {**obj, "id": obj["_id"]}
    require_keys(obj, ["id", "text"], path=path, line=line)
    return obj, check_id(obj["id"], path=str(path), line=line)


def _read_queries(path: Path, *, default_lang: str | None = None, keep: set[str] | None = None) -> list[Query]:
    out = []
    for line, obj in iter_jsonl(path):
        obj, qid = _record_id(obj, path, line)
        if keep is not None and qid not in keep:
            continue
        text = check_text(obj["text"], path=str(path), line=line, field="text")
        lang = _record_lang(obj, default_lang, path=path, line=line, option="--query-lang")
        meta = {k: v for k, v in obj.items() if k not in _QUERY_KEYS and k != "_id"}
        out.append((line, Query(qid, text, lang, meta)))
    return _unique(out, path=path, what="query")


def _read_documents(path: Path, *, default_lang: str | None = None, join_title: bool = False) -> list[Document]:
    out = []
    for line, obj in iter_jsonl(path):
        obj, did = _record_id(obj, path, line)
        title = obj.get("title")
        if title is not None and not isinstance(title, str):
            raise DataFormatError("'title' must be a string or absent", path=path, line=line, field="title")
        if join_title and title and title.strip():
            # BEIR and MTEB encode a passage as title + " " + text; a title-only passage is the title.
            body = (
                obj["text"]
                if isinstance(obj["text"], str)
                else check_text(obj["text"], path=str(path), line=line, field="text")
            )
            text = f"{title.strip()} {body}".strip()
        else:
            text = check_text(obj["text"], path=str(path), line=line, field="text")
        lang = _record_lang(obj, default_lang, path=path, line=line, option="--doc-lang")
        meta = {k: v for k, v in obj.items() if k not in _DOC_KEYS and k != "_id"}
        out.append((line, Document(did, text, lang, title or None, meta)))
    return _unique(out, path=path, what="document")


def read_qrels(
    path: PathLike, *, query_ids: set[str] | None = None, doc_ids: set[str] | None = None
) -> dict[str, dict[str, int]]:
    """Read a qrels TSV (``query_id doc_id relevance``; a header line is recognised and skipped; TREC's four-column
    ``qid 0 docid rel`` also works). With ``query_ids``/``doc_ids`` given, judgments naming unknown ids raise
    :class:`DataFormatError` with the line."""
    p = _existing_file(path)
    qrels: dict[str, dict[str, int]] = {}
    first_line: dict[tuple[str, str], int] = {}
    with p.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            text = _decode_line(raw, p, lineno).rstrip("\r\n")
            row = next(csv.reader([text], delimiter="\t", quoting=csv.QUOTE_NONE), [])
            if not row or not "".join(row).strip():
                continue
            if len(row) == 1 and " " in row[0]:
                row = row[0].split()
            if lineno == 1 and row[0].strip().lower() in _QRELS_HEADER_NAMES:
                continue  # header
            if len(row) == 4:
                qid, _, did, rel = row
            elif len(row) == 3:
                qid, did, rel = row
            else:
                raise DataFormatError(
                    f"expected 3 tab-separated columns (query_id, doc_id, relevance), got {len(row)}",
                    path=p,
                    line=lineno,
                    hint="write one judgment per line as query_id<TAB>doc_id<TAB>relevance",
                )
            try:
                rel_i = int(rel)
            except ValueError:
                raise DataFormatError(
                    f"relevance {rel!r} is not an integer",
                    path=p,
                    line=lineno,
                    field="relevance",
                    hint="the third column is an integer grade (0 = not relevant, 1, 2, ... = relevant)",
                ) from None
            qid, did = qid.strip(), did.strip()
            for known, key, fld, what, where, add in (
                (query_ids, qid, "query_id", "query id", "the queries file", "the query"),
                (doc_ids, did, "doc_id", "document id", "the corpus", "the document to corpus.jsonl"),
            ):
                if known is not None and key not in known:
                    raise DataFormatError(
                        f"{what} {key!r} is not in {where}",
                        path=p,
                        line=lineno,
                        field=fld,
                        hint=f"remove the judgment or add {add}",
                    )
            judged = qrels.setdefault(qid, {})
            if did in judged and judged[did] != rel_i:
                raise DataFormatError(
                    f"({qid!r}, {did!r}) is judged twice, with relevance {judged[did]} (line {first_line[qid, did]}) "
                    f"and {rel_i}",
                    path=p,
                    line=lineno,
                    field="relevance",
                    hint="keep one judgment per query and document",
                )
            judged[did] = rel_i
            first_line.setdefault((qid, did), lineno)
    return qrels


#: The keys of a retrieval set's ``meta.json``: (check, what the value must be).
_META_KEYS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "name": (lambda v: isinstance(v, str), "a string"),
    "provenance": (lambda v: isinstance(v, dict), "an object"),
    "summary": (lambda v: isinstance(v, dict), "an object"),
}


def read_retrieval_meta(path: PathLike) -> dict[str, Any]:
    """Read and check a retrieval set's ``meta.json``: an object whose keys are ``name`` (string), ``provenance``
    and ``summary`` (objects). An unknown key or a wrong type raises :class:`DataFormatError` naming the field."""
    hint = 'fix the file, or delete meta.json (it is optional: {"name": ..., "provenance": {...}})'
    meta = load_json_object(path, hint=hint)
    check_fields(
        meta,
        _META_KEYS,
        path=path,
        unknown_hint="remove {key!r} or move it under 'provenance'",
        wrong_hint="write {key!r} as {what}",
    )
    return meta


def _default_lang(code: str | None, option: str) -> str | None:
    if code is None:
        return None
    try:
        return normalize_lang(code, field=option)
    except UnknownLanguageError as exc:
        raise DataFormatError(exc.message, field=option, hint=exc.hint) from None


def retrieval_qrels_path(directory: PathLike, split: str | None = None) -> Path:
    """The qrels file of a retrieval-set directory: ``qrels.tsv`` (crossalign's layout) or ``qrels/<split>.tsv``
    (BEIR's layout; ``split`` defaults to ``test``).

    Raises:
        DataFormatError: No qrels at all, the split's file is missing (the message lists the splits present), or a
            split asked of a directory with one ``qrels.tsv``.
    """
    d = Path(directory)
    flat, beir = d / "qrels.tsv", d / "qrels"
    if beir.is_dir() and not (flat.is_file() and split is None):
        want = split or "test"
        path = beir / f"{want}.tsv"
        if not path.is_file():
            present = sorted(p.stem for p in beir.glob("*.tsv"))
            raise DataFormatError(
                f"no qrels for split {want!r} (qrels/{want}.tsv is missing; splits present: "
                f"{', '.join(present) or 'none'})",
                path=beir,
                field="split",
                hint=f"choose a split that exists: --split {present[0] if present else 'NAME'} (Python: split=...)",
            )
        return path
    if flat.is_file():
        if split is not None:
            raise DataFormatError(
                f"split {split!r} asked for, but the directory has one qrels.tsv and no qrels/ folder",
                path=d,
                field="split",
                hint="leave out --split, or lay the judgments out as BEIR does: qrels/<split>.tsv",
            )
        return flat
    raise DataFormatError(
        "missing qrels.tsv (or BEIR's qrels/<split>.tsv)",
        path=d,
        hint="a retrieval set is a directory with queries.jsonl, corpus.jsonl and qrels.tsv (or qrels/test.tsv)",
    )


def read_retrieval_set(
    directory: PathLike,
    *,
    name: str | None = None,
    query_lang: str | None = None,
    doc_lang: str | None = None,
    split: str | None = None,
) -> RetrievalSet:
    """Read a retrieval-set directory: crossalign's layout or a BEIR folder.

    crossalign's layout: ``queries.jsonl``, ``corpus.jsonl``, ``qrels.tsv``, optional ``meta.json`` (module
    docstring). A BEIR folder (``corpus.jsonl`` with ``_id``/``title``/``text``, ``queries.jsonl`` with
    ``_id``/``text``, ``qrels/<split>.tsv`` with the header ``query-id corpus-id score``) reads the same way, with
    BEIR's conventions: only the queries judged in the split are kept, and a passage's text is
    ``title + " " + text`` (as BEIR and MTEB encode it; the title alone when the text is empty).

    Args:
        directory: The directory.
        name: The set's name (default: ``meta.json``'s ``name``, else the directory name, plus ``/<split>`` for a
            BEIR split other than ``test``).
        query_lang, doc_lang: Language of the queries / documents that have no ``lang`` field (BEIR files have
            none); a record's own ``lang`` wins.
        split: The BEIR split (``qrels/<split>.tsv``; default ``test``).

    Raises:
        DataFormatError: Naming the file, line and field: a record without ``lang`` and no default, missing files,
            a missing split, bad ids, texts or judgments, or no judgment above 0 (nothing to evaluate).
    """
    d = Path(directory)
    if not d.is_dir():
        raise DataFormatError(
            "not a directory", path=d, hint="pass a directory with queries.jsonl, corpus.jsonl and qrels.tsv"
        )
    for fname in ("queries.jsonl", "corpus.jsonl"):
        if not (d / fname).is_file():
            raise DataFormatError(
                f"missing {fname}",
                path=d,
                hint="a retrieval set is a directory with queries.jsonl, corpus.jsonl and qrels.tsv (or BEIR's "
                "qrels/<split>.tsv)",
            )
    qlang = _default_lang(query_lang, "--query-lang")
    dlang = _default_lang(doc_lang, "--doc-lang")
    qrels_path = retrieval_qrels_path(d, split)
    beir = qrels_path.parent != d  # qrels/<split>.tsv
    keep = set(read_qrels(qrels_path)) if beir else None
    queries = _read_queries(d / "queries.jsonl", default_lang=qlang, keep=keep)
    docs = _read_documents(d / "corpus.jsonl", default_lang=dlang, join_title=beir)
    qrels = read_qrels(qrels_path, query_ids={q.id for q in queries}, doc_ids={x.id for x in docs})
    if not any(rel > 0 for judged in qrels.values() for rel in judged.values()):
        raise DataFormatError(
            f"no query has a relevant document ({sum(map(len, qrels.values()))} judgments, none above 0), so "
            "there is nothing to evaluate",
            path=qrels_path,
            field="relevance",
            hint="mark each query's relevant documents with relevance 1 (or higher); 0 means not relevant",
        )
    meta = read_retrieval_meta(d / "meta.json") if (d / "meta.json").is_file() else {}
    prov: dict[str, Any] = {"source": str(d), **meta.get("provenance", {})}
    default_name = meta.get("name") or d.name
    if beir:
        prov.update({"format": "beir", "split": qrels_path.stem})
        if qrels_path.stem != "test":
            default_name = f"{default_name}/{qrels_path.stem}"
    return RetrievalSet(queries, docs, qrels, name=name or default_name, provenance=prov, validate=False)


def _check_tsv_id(value: str, field: str) -> None:
    if any(c in value for c in "\t\n\r") or value != value.strip():
        raise DataFormatError(
            f"id {value!r} cannot be written to qrels.tsv (it has a tab, a line break or surrounding whitespace)",
            field=field,
            hint="rename the record: ids in qrels.tsv are tab-separated and stripped when read",
        )


def _has_space(text: str) -> bool:
    return any(c.isspace() for c in text)


def write_retrieval_set(rs: RetrievalSet, directory: PathLike) -> Path:
    """Write a retrieval set as a directory in the documented format (each file atomically).

    The judgments go to ``qrels.tsv`` (BEIR's three columns, with a header) and, when no id holds whitespace, also
    to ``qrels.trec`` (TREC's four columns ``query_id 0 doc_id relevance``, what ``trec_eval`` reads next to a run).

    Raises:
        DataFormatError: A judged id that ``qrels.tsv`` cannot hold (a tab, a line break, surrounding whitespace);
            checked before anything is written.
    """
    d = Path(directory)
    for qid, judged in rs.qrels.items():
        _check_tsv_id(qid, "query_id")
        for did in judged:
            _check_tsv_id(did, "doc_id")
    for kind, records, reserved in (("query", rs.queries, _QUERY_KEYS), ("document", rs.documents, _DOC_KEYS)):
        for rec in records:
            clash = sorted((set(rec.meta) & reserved) | ({"_id"} & set(rec.meta)))
            if clash:
                raise DataFormatError(
                    f"{kind} {rec.id!r} has meta key {clash[0]!r}, which the format reserves",
                    field=f"{kind}.meta.{clash[0]}",
                    hint=f"rename the meta key (reserved: {', '.join(sorted(reserved | {'_id'}))})",
                )
    d.mkdir(parents=True, exist_ok=True)
    write_jsonl(d / "queries.jsonl", ({"id": q.id, "text": q.text, "lang": q.lang, **dict(q.meta)} for q in rs.queries))
    write_jsonl(
        d / "corpus.jsonl",
        (
            {"id": x.id, "text": x.text, "lang": x.lang, **({"title": x.title} if x.title else {}), **dict(x.meta)}
            for x in rs.documents
        ),
    )
    with atomic_open(d / "qrels.tsv", "w") as fh:
        fh.write("query_id\tdoc_id\trelevance\n")
        for qid, judged in rs.qrels.items():
            for did, rel in judged.items():
                fh.write(f"{qid}\t{did}\t{rel}\n")
    if all(not _has_space(qid) and not any(_has_space(did) for did in judged) for qid, judged in rs.qrels.items()):
        with atomic_open(d / "qrels.trec", "w") as fh:  # the same judgments for trec_eval: qid 0 docid rel
            for qid, judged in rs.qrels.items():
                for did, rel in judged.items():
                    fh.write(f"{qid} 0 {did} {rel}\n")
    atomic_write_json(d / "meta.json", {"name": rs.name, "provenance": rs.provenance, "summary": rs.describe()})
    return d
