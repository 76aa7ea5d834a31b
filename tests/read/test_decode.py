"""decode_bytes: encodings, line endings, and what is rejected as empty or binary."""

from __future__ import annotations

import codecs
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quotewire.read.decode import decode_bytes, sha256_hex
from quotewire.read.document import DecodedDocument, Rejection

SENTENCE = "The mayor said the bridge would reopen “next spring”, café owners cheered.\n"


def decoded(data: bytes) -> DecodedDocument:
    result = decode_bytes(data, "a/story.txt")
    assert isinstance(result, DecodedDocument), result
    return result


def rejected(data: bytes) -> Rejection:
    result = decode_bytes(data, "a/story.txt")
    assert isinstance(result, Rejection), result
    return result


def test_plain_utf8_is_kept_verbatim_with_its_hash_and_size():
    data = SENTENCE.encode("utf-8")
    document = decoded(data)
    assert document.text == SENTENCE
    assert document.encoding == "utf-8"
    assert document.content_sha256 == hashlib.sha256(data).hexdigest() == sha256_hex(data)
    assert document.size_bytes == len(data)
    assert document.source_path == "a/story.txt"


def test_utf8_bom_is_stripped():
    document = decoded(codecs.BOM_UTF8 + SENTENCE.encode("utf-8"))
    assert document.text == SENTENCE
    assert document.encoding == "utf-8-sig"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(codec):
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    document = decoded(bom + SENTENCE.encode(codec))
    assert document.text == SENTENCE
    assert document.encoding == "utf-16"


def test_bomless_utf16_is_recognised_rather_than_called_binary():
    document = decoded("Plain words in UTF-16.\n".encode("utf-16-le"))
    assert document.text == "Plain words in UTF-16.\n"
    assert document.encoding == "utf-16-le"


def test_cp1252_fallback_decodes_smart_quotes():
    document = decoded("He said “no” – twice.".encode("cp1252"))
    assert document.text == "He said “no” – twice."
    assert document.encoding == "cp1252"


def test_bytes_undefined_in_cp1252_map_to_latin1_instead_of_failing():
    data = b"The caf\xe9 on the corner \x81 closed after forty years of trade \x9d on Main Street."
    document = decoded(data)
    assert document.text == "The café on the corner \x81 closed after forty years of trade \x9d on Main Street."
    assert document.encoding == "cp1252"


@pytest.mark.parametrize("ending", [b"\r\n", b"\r", b"\n"])
def test_line_endings_become_lf(ending):
    document = decoded(ending.join([b"Headline", b"", b"Body text."]))
    assert document.text == "Headline\n\nBody text."


def test_no_unicode_normalisation_so_offsets_match_the_file():
    decomposed = "Cafe\u0301 opens."  # e + combining acute: two code points
    assert decoded(decomposed.encode("utf-8")).text == decomposed


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  ", "\u200b\u00a0\n".encode("utf-8"), codecs.BOM_UTF8])
def test_empty_and_whitespace_only_are_rejected_as_empty(data):
    rejection = rejected(data)
    assert rejection.reason == "empty"
    assert rejection.content_sha256 == sha256_hex(data)


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
        b"\xff\xd8\xff\xe0" + b"JFIF" * 5,
        b"GIF89a" + b"x" * 20,
        b"%PDF-1.7\nsome text that looks fine",
        b"PK\x03\x04" + b"word/document.xml",
        b"\x1f\x8b\x08\x00" + b"abc" * 5,
    ],
)
def test_known_binary_formats_are_rejected(data):
    rejection = rejected(data)
    assert rejection.reason == "binary"
    assert rejection.detail


def test_nul_bytes_in_a_non_utf16_file_mean_binary():
    assert rejected(b"Looks like text\x00\x07\x00\x00\xff then garbage").reason == "binary"


def test_many_control_characters_mean_binary():
    assert rejected(bytes(range(1, 32)) * 10 + b"a few words").reason == "binary"


def test_a_stray_control_character_in_real_text_is_tolerated():
    text = "A long enough sentence about the council vote on Tuesday night.\x0b\n" * 3
    assert decoded(text.encode()).text == text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_and_are_deterministic(data):
    first = decode_bytes(data, "x.txt")
    assert first == decode_bytes(data, "x.txt")
    if isinstance(first, DecodedDocument):
        assert "\r" not in first.text
        assert first.text.strip()


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=500).filter(lambda t: t.strip() and "\x00" not in t))
def test_utf8_text_round_trips_up_to_line_endings(text):
    result = decode_bytes(text.encode("utf-8"), "x.txt")
    if isinstance(result, DecodedDocument):
        assert result.text == text.replace("\r\n", "\n").replace("\r", "\n")
