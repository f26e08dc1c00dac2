"""Data: typed records (parallel tuples, retrieval sets), validated readers/writers, corpora and builders."""

from crossalign.data.io import (
    parallel_from_hf,
    parallel_to_hf,
    read_parallel_jsonl,
    read_parallel_text,
    read_qrels,
    read_retrieval_set,
    write_parallel_jsonl,
    write_retrieval_set,
)
from crossalign.data.records import Document, ParallelCorpus, ParallelTuple, Query, RetrievalSet

__all__ = [
    "Document",
    "ParallelCorpus",
    "ParallelTuple",
    "Query",
    "RetrievalSet",
    "parallel_from_hf",
    "parallel_to_hf",
    "read_parallel_jsonl",
    "read_parallel_text",
    "read_qrels",
    "read_retrieval_set",
    "write_parallel_jsonl",
    "write_retrieval_set",
]
