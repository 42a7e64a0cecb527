import json

import pytest

from interviews.coverage import concept_coverage, mentions
from interviews.services.catalogue import CATALOGUE_DIR


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
])
def test_substrings_inside_other_words_do_not_match(text, term):
    assert not mentions(text, term)


def test_coverage_reports_each_concept_with_the_term_found():
    hits = concept_coverage(
        "We optimise normalised entropy and watch the ETA.",
        [("normalized entropy", ["ne", "normalised entropy"]),
         ("estimated time of arrival", ["eta"]),
         ("ROC AUC", ["auc"])],
    )
    assert [(hit.name, hit.matched, hit.covered) for hit in hits] == [
        ("normalized entropy", "normalised entropy", True),
        ("estimated time of arrival", "eta", True),
        ("ROC AUC", None, False),
    ]


def test_every_catalogue_concept_matches_its_own_name_and_not_an_unrelated_text():
    unrelated = "One metadata pipeline for everyone, beta testers and a catalogue of stores."
    for path in sorted((CATALOGUE_DIR / "case_studies").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for concepts in data["concepts"].values():
            for concept in concepts:
                assert mentions(f"We discuss {concept['name']} here.", concept["name"]), concept
                for synonym in concept["synonyms"]:
                    assert mentions(f"and {synonym}.", synonym), synonym
        hits = [hit.name for step in data["concepts"].values()
                for hit in concept_coverage(unrelated, [(c["name"], c["synonyms"]) for c in step])
                if hit.covered]
        assert hits == [], (path.name, hits)
