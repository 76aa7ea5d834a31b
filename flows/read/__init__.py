"""Raw files -> decoded documents: discovery, decoding, formats (HTML, JSONL, Markdown), sources."""
