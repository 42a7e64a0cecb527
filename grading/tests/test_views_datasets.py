import io

import pandas as pd
import pytest

from interviews.tests.factories import candidate

pytestmark = pytest.mark.django_db


def test_training_downloads_need_a_login(tiny_dataset, client):
    tiny_dataset("feed-ranking")
    response = client.get("/case-studies/feed-ranking/data/train.csv")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_candidate_downloads_the_training_csv_and_parquet(tiny_dataset, client):
    dataset, built = tiny_dataset("feed-ranking")
    client.force_login(candidate())
    response = client.get("/case-studies/feed-ranking/data/train.csv")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    frame = pd.read_csv(io.BytesIO(b"".join(response.streaming_content)))
    assert len(frame) == dataset.train_rows
    assert built.spec.label_column in frame.columns
    parquet = client.get("/case-studies/feed-ranking/data/train.parquet")
    assert len(pd.read_parquet(io.BytesIO(b"".join(parquet.streaming_content)))) == len(frame)


@pytest.mark.parametrize("name", ["labels.npy", "features.parquet", "FINGERPRINT",
                                  "..%2Fheldout%2Flabels.npy", "public.npy"])
def test_no_url_serves_heldout_files(tiny_dataset, client, name):
    tiny_dataset("feed-ranking")
    client.force_login(candidate())
    assert client.get(f"/case-studies/feed-ranking/data/{name}").status_code == 404


def test_case_study_page_documents_the_contract_and_links_the_downloads(tiny_dataset, client):
    _, built = tiny_dataset("ad-click-prediction")
    client.force_login(candidate())
    html = client.get("/case-studies/ad-click-prediction/").content.decode()
    for column in built.spec.feature_columns:
        assert f"<code>{column.name}</code>" in html
    assert "/case-studies/ad-click-prediction/data/train.parquet" in html
    assert "mlsd-validate-ad-click-prediction.pyz" in html
    assert "convert_sklearn" in html


def test_case_study_page_without_data_says_so(catalogue, data_dirs, client):
    html = client.get("/case-studies/ad-click-prediction/").content.decode()
    assert "not built yet" in html
