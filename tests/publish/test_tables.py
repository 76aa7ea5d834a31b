"""The quote columns the publisher adds: speaker_id per article and the extractor version."""

from __future__ import annotations

from quotewire.publish.tables import EXTRACTOR_VERSION, quote_speaker_ids, rules_hash
from quotewire.read.document import Mention, Quote


def mention(name: str, label: str, start: int) -> Mention:
    return Mention(start, start + len(name), name, label, name, 0)


def quote(speaker: str | None, start: int) -> Quote:
    return Quote(start, start + 5, "words", "direct", 0, speaker=speaker)


def test_a_quote_by_a_bare_surname_gets_the_id_of_the_full_name_the_article_mentions():
    mentions = [mention("Cora Whitfield", "PERSON", 0), mention("Whitfield", "PERSON", 40), mention("Friday", "DATE", 60)]
    ids = quote_speaker_ids(mentions, [quote("Cora Whitfield", 10), quote("Whitfield", 50), quote("Friday", 70),
                                       quote(None, 80)])
    assert ids[0] is not None and ids[1] == ids[0]
    assert ids[2:] == [None, None]


def test_rules_hash_changes_when_an_analysis_module_changes(tmp_path):
    (tmp_path / "attribution.py").write_text("CUES = ['said']\n")
    before = rules_hash(tmp_path)
    (tmp_path / "attribution.py").write_text("CUES = ['said', 'added']\n")
    assert rules_hash(tmp_path) != before and len(before) == 8


def test_the_extractor_version_is_the_package_version_and_the_rules_hash():
    from quotewire import __version__

    assert EXTRACTOR_VERSION == f"{__version__}+{rules_hash()}"
