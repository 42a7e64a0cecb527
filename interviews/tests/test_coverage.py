import json
import re
from functools import cache

import pytest

from interviews.coverage import concept_coverage, find_term, mentions
from interviews.services.catalogue import CATALOGUE_DIR

# Terms written in the pattern language match phrasings, not their own spelling.
PATTERN_SYNTAX = re.compile(r"[{}#]|\.\.\.|@k\b|\bk\b")


@cache
def catalogue_concepts(slug: str) -> dict[str, list[str]]:
    """The catalogue's terms of each concept of a case study: name first, then synonyms."""
    data = json.loads((CATALOGUE_DIR / "case_studies" / f"{slug}.json").read_text("utf-8"))
    return {concept["name"]: [concept["name"], *concept["synonyms"]]
            for step in data["concepts"].values() for concept in step}


def covered(slug: str, concept: str, text: str) -> bool:
    [hit] = concept_coverage(text, [(concept, catalogue_concepts(slug)[concept][1:])])
    return hit.covered


@pytest.mark.parametrize(("text", "term"), [
    ("Our NE drops by 2%", "ne"),
    ("the ETA model", "eta"),
    ("ne", "NE"),
    ("predict p(click) per ad", "p(click)"),
    ("run an A/B test", "a/b"),
    ("NDCG@10 on held-out days", "ndcg@10"),
    ("it has a cold start problem", "cold-start"),
    ("a cold-start problem", "cold start"),
    ("we use a feature\nstore", "feature store"),
    ("two embeddings", "embedding"),
    ("Feature crosses help", "feature cross"),
    ("(log loss)", "log loss"),
    # stems: -s, -es, -ed, -ing, a doubled consonant, a lost e or y
    ("we cache user features", "caching"),
    ("cached embeddings", "cache"),
    ("sharded by user", "shard"),
    ("sharding the index", "shards"),
    ("embed the query", "embedding"),
    ("labelled impressions", "label"),
    ("the model recalled", "recall"),
    ("two queries", "query"),
    ("biases in the data", "bias"),
    ("alerting on drift", "alerts"),
    ("features drifting", "drift"),
    # cut-offs written k, numbers and symbols
    ("Recall@100 on a held-out day", "recall@k"),
    ("recall @ 20", "recall@k"),
    ("MAP@K", "map@k"),
    ("recall at 50", "recall at k"),
    ("label = watched past 50 %", "label {=|:}"),
    ("Label: watched", "label {=|:}"),
    ("watched past 50%", "watched {past|more than} {half|#%}"),
    ("watched more than half", "watched {past|more than} {half|#%}"),
    ("watch time / DAU", "watch time {per|/} {user|dau}"),
    ("watch time per users", "watch time {per|/} {user|dau}"),
    ("we define the positive label as", "define ... label"),
    ("define label", "define ... label"),
])
def test_terms_match_as_whole_words_ignoring_case(text, term):
    assert mentions(text, term)


@pytest.mark.parametrize(("text", "term"), [
    ("one model for everyone", "ne"),
    ("store the metadata", "eta"),
    ("beta testers", "eta"),
    ("ndcg@100", "ndcg@10"),
    ("shardless", "shard"),
    ("catalogue", "log"),
    ("auction", "ctr"),
    ("", "ne"),
    # stems stay words: no other word that merely starts the same
    ("a cachet of quality", "cache"),
    ("shardless", "sharding"),
    ("adrift at sea", "drift"),
    ("labelmaker", "label"),
    ("recall", "recall@k"),
    ("recall@k10", "recall@k"),
    ("precision@10", "recall@k"),
    ("ndcg@100", "ndcg@10"),
    ("labels are noisy", "label {=|:}"),
    ("watched a film", "watched {past|more than} {half|#%}"),
    ("watch the time per user", "watch time {per|/} {user|dau}"),
    ("define the metric first, then the model; a label", "define ... label"),
    ("beta testers", "ab test"),
])
def test_substrings_inside_other_words_do_not_match(text, term):
    assert not mentions(text, term)


def test_the_words_found_are_the_answers_own():
    assert find_term("Our Recall@100 is 0.4", "recall@k") == "Recall@100"
    assert find_term("label = watched past 50 % of it", "label {=|:}") == "label ="
    assert find_term("no mention", "recall@k") is None
    assert find_term("anything", " ") is None


# What candidates write for a concept, and what must not count for it: (case study, concept,
# phrasings that mention it, phrasings that do not). The concepts and their terms come from
# the catalogue, so a synonym removed there fails here.
PHRASINGS = [
    ("video-recommendation", "recall@k",
     ["Recall@100 on the last day", "recall at 50", "RECALL@K", "recall@20 and NDCG",
      "the hit rate of the retrieval stage"],
     ["we recall the model", "recall of the classifier", "precision@10"]),
    ("video-recommendation", "watch time per user",
     ["watch time per DAU", "watch-time / DAU", "average watch time per daily active user",
      "minutes watched per user", "total watch time", "watch time per viewer"],
     ["watch time", "time per user request", "minutes of latency per user"]),
    ("video-recommendation", "label definition",
     ["label = watched past 50 %", "Label: watched more than half of the video",
      "the labels are defined by watch completion", "we define the positive label as a "
      "finished video", "a positive label", "watched at least 30 seconds"],
     ["we need more labels", "the label is noisy", "labelled data is scarce",
      "watched the video"]),
    ("video-recommendation", "cold start",
     ["the cold-start problem", "cold starts for new videos", "coldstart"],
     ["the start is cold", "a warm start"]),
    ("feed-ranking", "online engagement metrics",
     ["likes per DAU", "comments / daily active user", "time spent"],
     ["likes", "comments on the design"]),
    ("feed-ranking", "caching",
     ["we cache features", "cached embeddings", "a feature cache", "redis"],
     ["a cachet of quality", "cash flow"]),
    ("ad-click-prediction", "sharding",
     ["shard by user", "sharded feature store", "partitioning by advertiser"],
     ["shardless", "a partial answer"]),
    ("ad-click-prediction", "A/B test",
     ["A/B tests on 1% of traffic", "an ab-testing platform", "online experiments"],
     ["beta testers", "about the test set"]),
    ("rental-search-ranking", "mean average precision",
     ["MAP@20", "map@k", "average precision"],
     ["a map of the city", "precision"]),
    ("food-delivery-time", "data drift",
     ["features drifting over time", "distribution shifts", "concept drift"],
     ["adrift", "a driver shift"]),
]


@pytest.mark.parametrize(("slug", "concept", "positives", "negatives"), PHRASINGS,
                         ids=[f"{slug}:{concept}" for slug, concept, _, _ in PHRASINGS])
def test_each_concept_counts_its_phrasings_and_nothing_else(slug, concept, positives,
                                                            negatives):
    assert [text for text in positives if not covered(slug, concept, text)] == []
    assert [text for text in negatives if covered(slug, concept, text)] == []


def test_everyday_prose_mentions_no_concept_of_any_case_study():
    prose = ("We cooked dinner for everyone, tested the oven timer, labelled the jars and "
             "stored the leftovers. The recipe recalls a trip to the sea, where we watched "
             "a film about a lighthouse keeper and defined our own rules for the game.")
    for path in sorted((CATALOGUE_DIR / "case_studies").glob("*.json")):
        concepts = catalogue_concepts(path.stem)
        hits = [hit.name for hit in concept_coverage(
            prose, [(terms[0], terms[1:]) for terms in concepts.values()]) if hit.covered]
        assert hits == [], (path.name, hits)


def test_coverage_reports_each_concept_with_the_term_found():
    hits = concept_coverage(
        "We optimise normalised entropy and watch the ETA.",
        [("normalized entropy", ["ne", "normalised entropy"]),
         ("estimated time of arrival", ["eta"]),
         ("ROC AUC", ["auc"])],
    )
    assert [(hit.name, hit.matched, hit.found, hit.covered) for hit in hits] == [
        ("normalized entropy", "normalised entropy", "normalised entropy", True),
        ("estimated time of arrival", "eta", "ETA", True),
        ("ROC AUC", None, None, False),
    ]


def test_every_catalogue_concept_matches_its_own_name_and_not_an_unrelated_text():
    unrelated = "One metadata pipeline for everyone, beta testers and a catalogue of stores."
    for path in sorted((CATALOGUE_DIR / "case_studies").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for concepts in data["concepts"].values():
            for concept in concepts:
                assert mentions(f"We discuss {concept['name']} here.", concept["name"]), concept
                for synonym in concept["synonyms"]:
                    if not PATTERN_SYNTAX.search(synonym):
                        assert mentions(f"and {synonym}.", synonym), synonym
        hits = [hit.name for step in data["concepts"].values()
                for hit in concept_coverage(unrelated, [(c["name"], c["synonyms"]) for c in step])
                if hit.covered]
        assert hits == [], (path.name, hits)
