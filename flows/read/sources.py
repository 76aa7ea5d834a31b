"""A discovered file -> the article documents it holds (decoding step of every format).

Plain text and Markdown files are one article each; so is an HTML page (its body and
metadata extracted by trafilatura into text with front matter, see formats.py); a JSON Lines
dump holds one article per line, each addressed as ``<path>#L<line>``. Any of them may be
gzip-compressed. Whatever the format, the result is a DecodedDocument whose text the
structure parser reads, or a Rejection saying why not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from quotewire.read.decode import decode_bytes, sha256_hex
from quotewire.read.discover import SourceFile, article_format, read_bytes
from quotewire.read.document import DecodedDocument, Rejection
from quotewire.read.formats import (MIN_HTML_BODY_WORDS, GzipRejected, gunzip_if_needed, html_to_article_text,
                               jsonl_articles)


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """Where one article comes from: a whole file, or one line of a JSON Lines dump."""

    file: SourceFile
    line: int | None = None

    @property
    def source_path(self) -> str:
        return self.file.source_path if self.line is None else f"{self.file.source_path}#L{self.line}"


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """JSON escapes can spell half of a UTF-16 pair ("\\ud800"), which no UTF-8 file, Arrow
    column or DuckDB string can hold; each becomes U+FFFD, keeping every offset in place."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _line_of(document_id: str) -> int:
    return int(document_id.rsplit("#L", 1)[1])


def read_documents(source: SourceFile, max_file_bytes: int) -> list[tuple[DocumentRef, DecodedDocument | Rejection]]:
    """Every article document in one file; never raises for a bad file."""
    whole = DocumentRef(source)
    data = read_bytes(source, max_file_bytes)
    if isinstance(data, Rejection):
        return [(whole, data)]
    file_sha = sha256_hex(data)
    try:
        # A gzip bomb is stopped at the same limit as a plain file.
        data, name = gunzip_if_needed(data, source.source_path, max_bytes=max_file_bytes)
    except GzipRejected as error:
        return [(whole, Rejection(source.source_path, error.reason, str(error), file_sha))]

    kind = article_format(source.source_path)
    if kind == "jsonl":
        documents = []
        for document_id, text in jsonl_articles(data, source.source_path):
            ref = DocumentRef(source, _line_of(document_id))
            if isinstance(text, Rejection):
                documents.append((ref, text))
            else:
                text = without_lone_surrogates(text)
                encoded = text.encode()
                documents.append((ref, DecodedDocument(document_id, sha256_hex(encoded), text, "utf-8", len(encoded))))
        # A dump with no records would otherwise yield nothing and be in no ledger at all.
        return documents or [(whole, Rejection(source.source_path, "empty",
                                               "The JSON Lines file holds no records (only blank lines).", file_sha))]
    if kind == "html":
        text = html_to_article_text(data, source.source_path)
        if text is None:
            return [(whole, Rejection(source.source_path, "no_article_body",
                                      "No article body found in the page (none, or under "
                                      f"{MIN_HTML_BODY_WORDS} words: a navigation or index page).",
                                      file_sha))]
        return [(whole, DecodedDocument(source.source_path, file_sha, without_lone_surrogates(text), "html", len(data)))]
    # A .txt.gz's content_sha256 is of its bytes on disk, like every file's (its article id is of its text).
    return [(whole, decode_bytes(data, source.source_path, content_sha256=file_sha))]


def read_documents_again(refs: list[DocumentRef], max_file_bytes: int) -> list[DecodedDocument | Rejection]:
    """Re-read the given documents (the worker side of an ingest batch), each file once
    however many of its JSON Lines records the batch holds."""
    by_file: dict[SourceFile, dict[DocumentRef, DecodedDocument | Rejection]] = {}
    for ref in refs:
        if ref.file not in by_file:
            by_file[ref.file] = dict(read_documents(ref.file, max_file_bytes))
    return [by_file[ref.file].get(ref) or Rejection(ref.source_path, "vanished", "The line is no longer in the file.")
            for ref in refs]
