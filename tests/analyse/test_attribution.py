"""Speaker attribution rules, each on invented sentences."""

from __future__ import annotations

from quotewire.read.document import Mention
from quotewire.analyse.quotes import extract_quotes
from analyse.test_quotes import article_from, person


def speakers(article, mentions) -> list[str | None]:
    return [q.speaker for q in extract_quotes(article, mentions)]


def test_pronoun_resolves_to_nearest_earlier_person():
    article = article_from("Nora Quist spoke first.", "“We are ready,” she said.")
    quotes = extract_quotes(article, [person(article, "Nora Quist")])
    assert quotes[0].speaker == "Nora Quist"
    assert quotes[0].speaker_mention == "she"


def test_pronoun_skips_person_of_other_gender():
    article = article_from("Mr. Olaf Berg met Ms. Ines Vall on Monday. “It went well,” she said.")
    mentions = [person(article, "Olaf Berg"), person(article, "Ines Vall")]
    assert speakers(article, mentions) == ["Ines Vall"]
    article = article_from("Mr. Olaf Berg met Ms. Ines Vall on Monday. “It went well,” he said.")
    mentions = [person(article, "Olaf Berg"), person(article, "Ines Vall")]
    assert speakers(article, mentions) == ["Olaf Berg"]


def test_gender_is_learnt_from_the_articles_own_pronouns():
    article = article_from(
        "Kim Arlo runs the farm. She bought it in 2001.",
        "Later Kim Arlo met Sam Ude, who runs the mill. “Prices are low,” she said.",
    )
    mentions = [person(article, "Kim Arlo"), person(article, "Kim Arlo", nth=1), person(article, "Sam Ude")]
    assert speakers(article, mentions) == ["Kim Arlo"]


def test_person_named_inside_a_quote_is_not_the_pronouns_referent():
    article = article_from("Dale Pim arrived late. “Ask Rob Teller about it,” he said.")
    mentions = [person(article, "Dale Pim"), person(article, "Rob Teller")]
    assert speakers(article, mentions) == ["Dale Pim"]


def test_description_resolves_to_person_introduced_with_that_title():
    article = article_from(
        "Harbour Master Cleo Fenn closed the port on Friday.",
        "“The storm is too strong,” the harbour master said.",
    )
    assert speakers(article, [person(article, "Cleo Fenn")]) == ["Cleo Fenn"]


def test_description_resolves_through_an_appositive():
    article = article_from(
        "Rui Soto, the county treasurer, and Ann Lowe met.",
        "“Taxes will rise,” the treasurer said.",
    )
    assert speakers(article, [person(article, "Rui Soto"), person(article, "Ann Lowe")]) == ["Rui Soto"]


def test_surname_resolves_to_full_name():
    article = article_from("Petra Holm leads the union.", "“We strike at dawn,” Holm said.")
    mentions = [person(article, "Petra Holm"), person(article, "Holm")]
    assert speakers(article, mentions) == ["Petra Holm"]


def test_surname_unknown_to_ner_matches_earlier_full_name():
    article = article_from("Petra Holm leads the union.", "“We strike at dawn,” said Holm.")
    assert speakers(article, [person(article, "Petra Holm")]) == ["Petra Holm"]


def test_appositive_between_speaker_and_verb():
    article = article_from("“It is spreading,” Ivan Kral, a doctor at the city clinic, said.")
    mentions = [person(article, "Ivan Kral"), person(article, "city clinic", label="ORG")]
    quotes = extract_quotes(article, mentions)
    assert quotes[0].speaker == "Ivan Kral"


def test_inverted_attribution_with_appositive():
    article = article_from("“It is spreading,” said Ivan Kral, a doctor at Mercy Clinic.")
    mentions = [person(article, "Ivan Kral"), person(article, "Mercy Clinic", label="ORG")]
    assert speakers(article, mentions) == ["Ivan Kral"]


def test_speaker_first_with_colon():
    article = article_from("Ms Oda Renn said: “The budget is balanced.”")
    quotes = extract_quotes(article, [person(article, "Oda Renn")])
    assert quotes[0].speaker == "Oda Renn"
    assert quotes[0].kind == "direct"


def test_according_to_an_organisation():
    article = article_from("The mill will close “within a year,” according to the Valley Ledger.")
    quotes = extract_quotes(article, [person(article, "the Valley Ledger", "Valley Ledger", label="ORG")])
    assert quotes[0].speaker == "Valley Ledger"
    assert quotes[0].cue == "according to"


def test_dash_attribution():
    article = article_from("“Never give up.” — Senator Uma Pell")
    assert speakers(article, [person(article, "Uma Pell")]) == ["Uma Pell"]


def test_unattributed_quote_continues_previous_speaker_into_next_paragraph():
    article = article_from(
        "“First, we cut costs,” Lars Ek said. “Then we hire.”",
        "“And then we grow.”",
    )
    assert speakers(article, [person(article, "Lars Ek")]) == ["Lars Ek"] * 3


def test_paragraph_ending_in_colon_introduces_next_quote():
    article = article_from("The Harbor Gazette reports:", "“The ferry will stop running in May.”")
    mentions = [person(article, "Harbor Gazette", label="ORG")]
    assert speakers(article, mentions) == ["Harbor Gazette"]


def test_scare_quote_without_speaker_gets_none():
    article = article_from("The so-called “miracle diet” is popular this year.")
    quotes = extract_quotes(article, [])
    assert quotes[0].speaker is None
    assert quotes[0].kind == "partial"


def test_participle_cue_takes_the_sentence_subject():
    article = article_from("Tara Voss defended the plan on Monday, adding, “It will work.”")
    assert speakers(article, [person(article, "Tara Voss")]) == ["Tara Voss"]


def test_transcript_label_names_the_speaker():
    article = article_from("Host Jo Brandt interviewed the minister.", "“BRANDT: Will you resign?”")
    quotes = extract_quotes(article, [person(article, "Jo Brandt")])
    assert quotes[0].text == "Will you resign?"
    assert quotes[0].speaker == "Jo Brandt"


def test_pronoun_chain_follows_the_person_last_quoted():
    article = article_from(
        "“We will appeal,” said Omar Reyes, who met Leo Tamm on Monday.",
        "Leo Tamm declined to comment.",
        "“It is not over,” he said.",
    )
    mentions = [person(article, "Omar Reyes"), person(article, "Leo Tamm"), person(article, "Leo Tamm", nth=1)]
    # the nearest sentence names Leo Tamm as its subject: nearest-subject wins over the chain
    assert speakers(article, mentions)[-1] == "Leo Tamm"


def test_surname_labelled_as_organisation_is_still_the_person():
    article = article_from("Petra Holm leads the union.", "“We strike at dawn,” Holm said.")
    mentions = [person(article, "Petra Holm"), person(article, "Holm", label="ORG")]
    assert speakers(article, mentions) == ["Petra Holm"]


def test_pronoun_prefers_the_subject_over_a_person_after_a_preposition():
    article = article_from(
        "Under Governor Ines Lund, the retired judge Alma Reyes spoke of long years.",
        "“It was hard work,” she said.",
    )
    mentions = [person(article, "Alma Reyes"), person(article, "Ines Lund")]
    assert speakers(article, mentions) == ["Alma Reyes"]


def test_pronoun_run_keeps_its_referent_past_a_possessive_name():
    article = article_from(
        "Tove Lind runs the port authority.",
        "She has faced criticism over Mira Holt's ferry contract. She said the deal was fair.",
        "“We followed every rule,” she said.",
    )
    mentions = [person(article, "Tove Lind"), person(article, "Mira Holt")]
    assert speakers(article, mentions) == ["Tove Lind"]


def test_surname_ner_missed_still_counts_as_the_person():
    article = article_from(
        "Colonel Piet Ham retired last year, and Vera Soll replaced Piet Ham.",
        "Ham went on to criticise Vera Soll's budget cuts.",
        "“We were told to do more with less,” he said.",
    )
    mentions = [person(article, "Piet Ham"), person(article, "Vera Soll"), person(article, "Piet Ham", nth=1),
                person(article, "Vera Soll", nth=1)]
    assert speakers(article, mentions) == ["Piet Ham"]


def test_stray_punctuation_in_a_person_mention_is_not_part_of_the_name():
    article = article_from("Kai Berg - the deputy - met us.", "“We are ready,” he said.")
    assert speakers(article, [person(article, "Kai Berg -")]) == ["Kai Berg"]


def test_speaker_gets_the_fullest_name_the_article_uses():
    article = article_from(
        "Ximena del Campo Ruiz, the trade minister, arrived on Monday.",
        "“Tariffs hurt both sides,” Mr. Campo Ruiz said.",
    )
    mentions = [person(article, "Ximena del Campo Ruiz"), person(article, "Campo Ruiz", nth=1)]
    assert speakers(article, mentions) == ["Ximena del Campo Ruiz"]


def test_title_picks_the_person_of_that_gender_among_same_surnames():
    article = article_from(
        "The first lady, Michelle Varga, spoke before her husband.",
        "“We are not done,” Mr. Varga said.",
    )
    mentions = [person(article, "Michelle Varga"), person(article, "Varga", nth=1)]
    assert speakers(article, mentions) == ["Varga"]


def test_a_name_chosen_without_a_title_does_not_depend_on_the_articles_genders():
    # build_context keeps these names when it learns the article's genders (only names chosen
    # after "Mr"/"Ms" are chosen again), so they must come out the same whatever the genders.
    from quotewire.analyse.attribution import build_context, compute_best_name, gender_of_title

    article = article_from(
        "Quinn Varga and Ada Varga run the port. Varga hired staff.",
        "Mr. Varga stayed home. Later Varga said no.",
    )
    mentions = [person(article, "Quinn Varga"), person(article, "Ada Varga"), person(article, "Varga", nth=2),
                person(article, "Varga", nth=3), person(article, "Varga", nth=4)]
    context = build_context(article, mentions, [])
    untitled = [m for m in context.persons if gender_of_title(context, m.start) is None]
    assert len(untitled) == 4  # all but "Mr. Varga"

    def names_with(genders: dict[str, str]) -> list[str]:
        context.genders = genders
        context.names_cache.clear()
        context.text_name_cache.clear()
        return [compute_best_name(context, m) for m in untitled]

    names = names_with({})
    assert names_with({"Quinn Varga": "m", "Ada Varga": "f"}) == names
    assert names_with({"Quinn Varga": "f", "Ada Varga": "m", "Varga": "m"}) == names


def test_initials_and_abbreviated_titles_do_not_end_the_speaker_phrase():
    article = article_from("“This is a sad day,” said Del. R.J. Oyelaran of the island district.")
    assert speakers(article, [person(article, "R.J. Oyelaran")]) == ["R.J. Oyelaran"]


def test_party_label_then_appositive_between_speaker_and_verb():
    article = article_from("“They would just take it,” Rep. Ada Kurt (R-Utah), a panel member, said.")
    assert speakers(article, [person(article, "Ada Kurt")]) == ["Ada Kurt"]


def test_role_word_next_to_the_name_outweighs_the_first_name_prior():
    article = article_from(
        "“We want our day in court,” said the widow Terry Vance.",
        "Vance spoke for an hour. Vance was calm.",
        "“It has been too long,” she said.",
    )
    mentions = [person(article, "Terry Vance"), person(article, "Vance", nth=1), person(article, "Vance", nth=2)]
    assert speakers(article, mentions)[-1] == "Terry Vance"


def test_pronouns_after_a_bare_surname_do_not_set_the_gender_of_a_namesake():
    article = article_from(
        "Police stopped Bo Lark's car. Lark was shot as he stepped out. Lark was 40 and he had two children.",
        "Mara Lark, who lived nearby, filmed it. “Please stop,” she says.",
    )
    mentions = [person(article, "Lark", nth=1), person(article, "Lark", nth=2), person(article, "Mara Lark")]
    assert speakers(article, mentions) == ["Mara Lark"]


def test_organisation_description_goes_to_the_organisation_named_with_that_word():
    article = article_from(
        "The Union of Ferry Pilots backs Nia Corr, whose union work began in 1990.",
        "“She has earned it,” the union wrote.",
    )
    mentions = [person(article, "The Union of Ferry Pilots", "Union of Ferry Pilots", label="ORG"),
                person(article, "Nia Corr")]
    assert speakers(article, mentions) == ["Union of Ferry Pilots"]


def test_unintroduced_role_falls_back_to_the_most_salient_person():
    article = article_from(
        "Mr. Odo Brand toured three factories on Tuesday. Brand met workers there.",
        "“We need change,” the Denver businessman said.",
    )
    mentions = [person(article, "Odo Brand"), person(article, "Brand", nth=1)]
    assert speakers(article, mentions) == ["Odo Brand"]


def test_possessive_led_description_is_not_the_possessor():
    article = article_from(
        "Lena Fisk, a strategist, spoke to Mr. Pol Arden's staff.",
        "“It was outrageous,” Arden's former strategist said.",
    )
    mentions = [person(article, "Lena Fisk"), person(article, "Pol Arden"), person(article, "Arden", nth=1)]
    assert speakers(article, mentions) == ["Lena Fisk"]


def test_pronouns_after_a_bare_surname_gender_a_person_nothing_else_genders():
    # "Tamsin Reyk" has no title, role word or listed first name: only the pronoun after the
    # bare surname says who "he" can be; nobody else is named Reyk
    article = article_from(
        "Tamsin Reyk hosts a show. Reyk said he would stay. Ms. Ona Pell disagreed.",
        "“It is done,” she said.",
    )
    mentions = [person(article, "Tamsin Reyk"), person(article, "Reyk", nth=1), person(article, "Ona Pell")]
    assert speakers(article, mentions) == ["Ona Pell"]


def test_a_line_break_inside_a_paragraph_ends_the_attribution_region():
    # one paragraph whose lines are separate paragraphs of the source
    article = article_from("Ines Dorr spoke first. “We are ready,” she said. “We start now.”\n"
                           "Editor’s note: the harbour closes at noon, Olav Brent said.")
    mentions = [person(article, "Ines Dorr"), person(article, "Olav Brent")]
    assert speakers(article, mentions) == ["Ines Dorr", "Ines Dorr"]


def test_a_role_word_before_a_verb_does_not_introduce_the_person_after_it():
    article = article_from(
        "Mr. Arno Vell ran the mill for years. Ms. Pia Roe runs the bank.",
        "The businessman spoke of Pia Roe, “She will not lend,” and left.",
        "“We will manage,” the businessman said.",
    )
    mentions = [person(article, "Arno Vell"), person(article, "Pia Roe"), person(article, "Pia Roe", nth=1)]
    assert speakers(article, mentions)[-1] == "Arno Vell"


def test_a_noun_like_cue_after_a_determiner_and_noun_ends_the_clause():
    article = article_from(
        "The Harbour Courier covered the vote.",
        "“The mayor lost,” the article read.",
    )
    mentions = [person(article, "Harbour Courier", label="ORG")]
    quotes = extract_quotes(article, mentions)
    assert (quotes[0].speaker, quotes[0].cue) == ("Harbour Courier", "read")


def test_a_ruling_is_the_courts():
    article = article_from(
        "The Court of Coastal Appeals heard a challenge to the Kite Safety Act on Monday.",
        "“The act stands,” said the ruling.",
    )
    mentions = [person(article, "Kite Safety Act", label="ORG"), person(article, "Court of Coastal Appeals", label="ORG")]
    assert speakers(article, mentions) == ["Court of Coastal Appeals"]


def test_a_nickname_in_quotation_marks_stays_part_of_the_speakers_name():
    article = article_from('“We will win!” Her aunt, state Del. Ada “Dee” Roon (D-Harbour), shouted to the crowd.')
    mentions = [person(article, "Ada “Dee” Roon")]
    quotes = extract_quotes(article, mentions)
    assert (quotes[0].text, quotes[0].speaker) == ("We will win!", "Ada Dee Roon")


def test_a_surname_written_with_another_apostrophe_is_the_same_person():
    article = article_from("Chief Ed O’Hara arrived.", "“Stay back,” said O'Hara.")
    assert speakers(article, [person(article, "Ed O’Hara"), person(article, "O'Hara")]) == ["Ed O’Hara"]


def test_a_participle_cue_followed_by_a_comma_takes_the_sentence_subject():
    article = article_from("Earlier that day, Ivo Dask criticised Lena Marr for her votes on Ruritania, saying, “She is reckless.”")
    mentions = [person(article, "Ivo Dask"), person(article, "Lena Marr"), person(article, "Ruritania", label="GPE")]
    assert speakers(article, mentions) == ["Ivo Dask"]


def long_paragraph_article(repeats: int):
    """One paragraph of ``repeats`` rounds of four quotes by two people, named once at the start."""
    rounds = ("“The gate opens at nine,” said Lena Hart, the keeper. "
              "She added that the path was “muddy but safe” this week. "
              "Mr. Obi Tamm replied: “We will bring boots.” "
              "“It rains every spring,” he said. ")
    return article_from("Lena Hart and Obi Tamm met at the park.", rounds * repeats)


def long_paragraph_mentions(article):
    text = article.text
    mentions = []
    for words in ("Lena Hart", "Obi Tamm"):
        start = text.find(words)
        while start >= 0:
            paragraph = article.paragraph_at(start)
            mentions.append(Mention(start, start + len(words), words, "PERSON", words, paragraph.position))
            start = text.find(words, start + 1)
    return sorted(mentions, key=lambda m: m.start)


def test_a_paragraph_with_thousands_of_quotes_is_attributed_throughout():
    article = long_paragraph_article(600)  # ~120,000 characters, 2,400 quotes in one paragraph
    quotes = extract_quotes(article, long_paragraph_mentions(article))
    assert len(quotes) == 2400
    assert [q.speaker for q in quotes] == ["Lena Hart", "Lena Hart", "Obi Tamm", "Obi Tamm"] * 600
    assert [q.speaker_mention for q in quotes[-4:]] == ["Lena Hart", "She", "Mr. Obi Tamm", "he"]


def test_sentence_boundaries_are_found_once_per_paragraph_not_once_per_quote(monkeypatch):
    from quotewire.analyse import attribution

    scanned = []
    original = attribution.sentence_end_marks

    def counting(masked, start, end):
        scanned.append(end - start)
        return original(masked, start, end)

    monkeypatch.setattr(attribution, "sentence_end_marks", counting)
    article = long_paragraph_article(50)
    quotes = extract_quotes(article, long_paragraph_mentions(article))
    assert len(quotes) == 200
    # each paragraph is scanned once (a quote opening a paragraph may look at the one before)
    assert sum(scanned) <= 2 * len(article.text)


def test_punctuation_begun_inside_a_quote_does_not_end_the_sentence_after_it():
    article = article_from("''He asked me, 'Why did you leave?''' Mr. Ivo Brandt said, smiling.")
    quotes = extract_quotes(article, [person(article, "Ivo Brandt")])
    assert [q.speaker for q in quotes] == ["Ivo Brandt"]
    assert quotes[0].speaker_mention == "Mr. Ivo Brandt"


def test_a_book_speaks_for_the_person_who_wrote_it():
    article = article_from(
        "Dr. Mira Solberg served at the Harbor Clinic for a decade.",
        "Solberg wrote a memoir of her years there, titled Night Shifts.",
        "“Nobody slept during the flood,” the book said.",
    )
    mentions = [person(article, "Mira Solberg"), person(article, "Harbor Clinic", label="ORG"),
                person(article, "Solberg", nth=1)]
    quotes = extract_quotes(article, mentions)
    assert [q.speaker for q in quotes] == ["Mira Solberg"]
    assert quotes[0].speaker_mention == "the book"


def test_a_book_nobody_is_said_to_have_written_is_not_given_an_author():
    article = article_from(
        "Dr. Mira Solberg served at the Harbor Clinic for a decade.",
        "“Nobody slept during the flood,” the book said.",
    )
    mentions = [person(article, "Mira Solberg"), person(article, "Harbor Clinic", label="ORG")]
    assert speakers(article, mentions) == ["Harbor Clinic"]


def test_a_title_and_first_name_is_the_person_named_in_full_with_that_first_name():
    article = article_from("Ann Rowe was made a dame on Friday.", "“I am thrilled,” said Dame Ann.")
    assert speakers(article, [person(article, "Ann Rowe"), person(article, "Dame Ann")]) == ["Ann Rowe"]


def test_a_first_name_two_people_share_is_left_as_written():
    article = article_from("Ann Rowe and Ann Lee were made dames.", "“I am thrilled,” said Dame Ann.")
    mentions = [person(article, "Ann Rowe"), person(article, "Ann Lee"), person(article, "Dame Ann")]
    assert speakers(article, mentions) == ["Ann"]


def test_two_names_glued_by_ner_are_not_one_speaker():
    article = article_from("Anna Berg and Tom Reed both scored.", "“It was a team effort,” said Anna Berg Tom Reed.")
    mentions = [person(article, "Anna Berg"), person(article, "Tom Reed"), person(article, "Anna Berg Tom Reed")]
    assert speakers(article, mentions) == ["Tom Reed"]


def test_words_before_an_honorific_inside_a_name_are_dropped():
    article = article_from("Leon Marsh denies the charges.", "Describing Mr Marsh as calm, his lawyer read a statement. “He is innocent,” said Describing Mr Marsh.")
    mentions = [person(article, "Leon Marsh"), person(article, "Describing Mr Marsh", nth=1)]
    assert speakers(article, mentions) == ["Leon Marsh"]


def test_a_surname_spelt_one_letter_apart_is_the_same_person():
    article = article_from("Dan Kowalsky scored the winner.", "“It was a great day,” Kowalski said.")
    assert speakers(article, [person(article, "Dan Kowalsky"), person(article, "Kowalski")]) == ["Dan Kowalsky"]


def test_a_surname_one_letter_from_two_people_stays_unresolved():
    article = article_from("Dan Kowalsky and Eva Kowalska scored.", "“It was a great day,” Kowalski said.")
    mentions = [person(article, "Dan Kowalsky"), person(article, "Eva Kowalska"), person(article, "Kowalski")]
    assert speakers(article, mentions) == ["Kowalski"]


def test_every_quote_has_a_speaker_confidence_between_zero_and_one_and_zero_without_a_speaker():
    article = article_from("Nora Quist spoke first.", "“We are ready,” she said. “Nobody here,” the wind whispered.", "“Why?”")
    quotes = extract_quotes(article, [person(article, "Nora Quist")])
    assert all(0.0 <= q.speaker_confidence <= 1.0 for q in quotes)
    assert quotes[0].speaker == "Nora Quist" and quotes[0].speaker_confidence > 0
    assert all(q.speaker_confidence == 0.0 for q in quotes if q.speaker is None)


def test_a_named_speaker_after_the_quote_is_more_certain_than_a_pronoun():
    article = article_from("Nora Quist spoke first. Ola Berg spoke next.", "“We are ready,” Nora Quist said.", "“So are we,” she said.")
    mentions = [person(article, "Nora Quist"), person(article, "Ola Berg"), person(article, "Nora Quist", nth=1)]
    named, pronoun = extract_quotes(article, mentions)
    assert named.speaker == pronoun.speaker == "Nora Quist"
    assert named.speaker_confidence > pronoun.speaker_confidence


def test_an_unnamed_spokeswoman_is_not_the_person_named_before():
    article = article_from("Professor Nina Roth criticised the plan.", "A spokeswoman said: “We will not comment.”")
    assert speakers(article, [person(article, "Nina Roth")]) == [None]


def test_an_unnamed_spokesman_for_a_named_organisation_is_the_organisation():
    article = article_from("Nina Roth criticised the plan.", "A spokesman for Tillwater Union said: “We will not comment.”")
    mentions = [person(article, "Nina Roth"), person(article, "Tillwater Union", label="ORG")]
    assert speakers(article, mentions) == ["Tillwater Union"]
    article = article_from("Nina Roth criticised the plan.", "A Tillwater Union spokesman said: “We will not comment.”")
    mentions = [person(article, "Nina Roth"), person(article, "Tillwater Union", label="ORG")]
    assert speakers(article, mentions) == ["Tillwater Union"]
