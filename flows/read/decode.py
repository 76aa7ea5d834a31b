"""Raw bytes -> normalised text, or a Rejection saying why the bytes are not an article.

Decoding order (first that applies wins):

1. a UTF-32 / UTF-8 / UTF-16 byte-order mark says what the file is;
2. BOM-less UTF-16 (every other byte NUL in a text of ASCII letters) is recognised, because
   Windows tools write it and rejecting it as "binary" would lose real articles;
3. strict UTF-8;
4. cp1252, the legacy encoding of nearly every non-UTF-8 English news file. The five bytes
   cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the latin-1 character of the
   same value, so decoding never fails and the same bytes always give the same text.

Line endings become ``\\n`` (CRLF and lone CR alike). The text is deliberately *not* NFC
normalised: gold files and users index the text "exactly as the raw file decodes", and NFC
can change string lengths (a decomposed "é" is two code points, a composed one is one), which
would shift every offset after it. Equal-looking texts in NFC and NFD therefore stay distinct.
"""

from __future__ import annotations

import codecs
import hashlib
import re

from quotewire.read.document import DecodedDocument, Rejection

# Signatures of common non-text formats, checked before any decoding so that a renamed
# image or archive is reported as what it is rather than as mojibake.
MAGIC_NUMBERS: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive (or docx/xlsx/epub)"),
    (b"PK\x05\x06", "empty ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh91AY&SY", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x28\xb5\x2f\xfd", "zstd archive"),
    (b"\x7fELF", "ELF executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE document (old Word/Excel)"),
    (b"\xca\xfe\xba\xbe", "Java class / Mach-O binary"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"OggS", "Ogg media"),
    (b"fLaC", "FLAC audio"),
    (b"\x1a\x45\xdf\xa3", "Matroska/WebM media"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\x00asm", "WebAssembly module"),
    (b"wOFF", "WOFF font"),
    (b"wOF2", "WOFF2 font"),
)

BOMS: tuple[tuple[bytes, str, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)
# BOMs whose encodings legitimately contain NUL bytes.
BOMS_WITH_NULS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)

# Above this share of control characters the "text" is almost surely binary data that
# happened to decode (cp1252 decodes anything).
MAX_CONTROL_SHARE = 0.05
# Category Cc is exactly U+0000-U+001F and U+007F-U+009F; tab, line feed, vertical tab, form
# feed and carriage return are left out because real text files contain them.
_DISALLOWED_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Characters that print as nothing: a file holding only these is empty to a reader.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"

_CP1252_FALLBACK = "quotewire-cp1252-latin1"


def _latin1_for_undefined(error: UnicodeDecodeError) -> tuple[str, int]:
    undefined = error.object[error.start : error.end]
    return "".join(chr(byte) for byte in undefined), error.end


codecs.register_error(_CP1252_FALLBACK, _latin1_for_undefined)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def magic_format(data: bytes) -> str | None:
    """The name of the binary format ``data`` starts with, if it is a known one."""
    for magic, name in MAGIC_NUMBERS:
        if data.startswith(magic):
            return name
    # RIFF containers (WAV, AVI, WebP) and ISO media (MP4, MOV, HEIC) have the tag at offset 8/4.
    if data[:4] == b"RIFF" and data[8:12] in (b"WAVE", b"AVI ", b"WEBP"):
        return "RIFF media"
    if data[4:8] == b"ftyp":
        return "ISO media (MP4/MOV/HEIC)"
    if data[:3] == b"ID3" and len(data) > 3 and data[3] < 0x10:
        return "MP3 audio"
    return None


def bomless_utf16_codec(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when ``data`` looks like BOM-less UTF-16 text, else None.

    Mostly-ASCII UTF-16 puts a NUL in every second byte of nearly every code unit; binary
    data almost never has that regular a pattern.
    """
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    pairs = len(sample) // 2
    odd_nuls = sample[1::2].count(0)
    even_nuls = sample[0::2].count(0)
    if odd_nuls >= 0.9 * pairs and even_nuls == 0:
        return "utf-16-le"
    if even_nuls >= 0.9 * pairs and odd_nuls == 0:
        return "utf-16-be"
    return None


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name) for bytes already known not to be a binary format."""
    for bom, codec, name in BOMS:
        if data.startswith(bom):
            # The BOM declares the encoding: a stray bad sequence becomes U+FFFD rather
            # than sending the whole file down the cp1252 path.
            return data.decode(codec, errors="replace"), name
    utf16 = bomless_utf16_codec(data)
    if utf16:
        return data.decode(utf16, errors="replace"), utf16
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors=_CP1252_FALLBACK), "cp1252"


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def control_share(text: str) -> float:
    """Share of control characters (Unicode category Cc) other than the white-space ones."""
    if not text:
        return 0.0
    return len(_DISALLOWED_CONTROL.findall(text)) / len(text)


def is_blank(text: str) -> bool:
    return not text.strip().strip(INVISIBLE).strip()


def decode_bytes(data: bytes, source_path: str, content_sha256: str | None = None) -> DecodedDocument | Rejection:
    """Decode one raw file; never raises. ``content_sha256``: the file's hash when the caller
    has it already (for a gzip file, the hash of the bytes on disk, not of what they inflate to)."""
    digest = content_sha256 or sha256_hex(data)

    def reject(reason: str, detail: str) -> Rejection:
        return Rejection(source_path=source_path, reason=reason, detail=detail, content_sha256=digest)

    if not data:
        return reject("empty", "The file is empty (0 bytes).")
    binary_format = magic_format(data)
    if binary_format:
        return reject("binary", f"The file is a {binary_format}, not article text.")
    if b"\x00" in data and not data.startswith(BOMS_WITH_NULS) and not bomless_utf16_codec(data):
        return reject("binary", "The file contains NUL bytes and is not UTF-16 text.")

    text, encoding = decode_text(data)
    text = normalise_newlines(text)
    if is_blank(text):
        return reject("empty", "The file holds only white space.")
    share = control_share(text)
    if share > MAX_CONTROL_SHARE:
        return reject("binary", f"{share:.0%} of the characters are control characters: not text.")
    return DecodedDocument(
        source_path=source_path,
        content_sha256=digest,
        text=text,
        encoding=encoding,
        size_bytes=len(data),
    )

