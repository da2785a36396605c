"""Where the browser meets the videos bucket: the origin the page's CSP
names is the one botocore signs URLs for, and the bucket (locally as in the
template) takes upload POSTs from the web client's origin only, with the
CORS headers a browser needs on the POST's answer too."""
import dataclasses
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.config import Config

import localstack
from chalicelib import aws
from chalicelib.config import settings
from chalicelib.db import video_store

PAGE = "http://127.0.0.1:8123"


def _signed_origin(region: str, bucket: str) -> str:
    client = botocore.session.get_session().create_client(
        "s3", region_name=region, aws_access_key_id="a", aws_secret_access_key="b",
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "videos/x"}, ExpiresIn=60)
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_the_csp_names_the_origin_botocore_signs_playback_urls_for(region):
    s = dataclasses.replace(settings(), region=region, aws_endpoint=None, videos_bucket="flock-prod-videos-1-" + region)
    assert s.videos_origin == _signed_origin(region, s.videos_bucket)


def test_the_origin_of_the_local_endpoint_is_what_the_url_starts_with():
    s = dataclasses.replace(settings(), aws_endpoint="http://127.0.0.1:5000")
    assert s.videos_origin == "http://127.0.0.1:5000"


def test_the_local_bucket_takes_upload_posts_from_the_pages_origins_only():
    assert video_store.ensure_bucket([PAGE, "http://localhost:8123"]) is False  # provisioned already: rules replaced
    (rule,) = aws.client("s3").get_bucket_cors(Bucket=settings().videos_bucket)["CORSRules"]
    assert rule["AllowedMethods"] == ["POST"] and rule["AllowedOrigins"] == [PAGE, "http://localhost:8123"]
    assert "AllowedHeaders" not in rule


def _answer_headers(method, origin, path=None):
    seen = {}
    start = localstack.with_s3_post_cors(
        {"REQUEST_METHOD": method, "HTTP_ORIGIN": origin, "PATH_INFO": path or f"/{settings().videos_bucket}"},
        lambda status, headers, exc_info=None: seen.update(headers))
    start("204 No Content", [("Content-Length", "0")])
    return seen


def test_the_local_s3_answers_an_allowed_pages_upload_post_with_cors_headers_as_s3_does():
    video_store.allow_uploads_from([PAGE])
    assert _answer_headers("POST", PAGE)["Access-Control-Allow-Origin"] == PAGE
    for method, origin, path in [("POST", "http://127.0.0.1:9999", None), ("POST", "https://evil.example", None),
                                 ("GET", PAGE, None), ("POST", PAGE, "/another-bucket")]:
        assert "Access-Control-Allow-Origin" not in _answer_headers(method, origin, path), (method, origin, path)
