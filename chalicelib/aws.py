"""botocore clients for the AWS services besides DynamoDB (Secrets Manager,
SQS, KMS, S3), one per service per process. botocore rather than boto3:
PynamoDB already loads botocore, and boto3 (with s3transfer) would add about
a third to the cold start for nothing Flock uses."""
import functools

import botocore.session
from botocore.config import Config

from chalicelib.config import settings


def _config(service: str) -> Config | None:
    """S3 signs with SigV4 (presigned URLs and POST policies). A local
    endpoint (moto on 127.0.0.1) has no bucket subdomains: path-style there."""
    if service != "s3":
        return None
    return Config(signature_version="s3v4",
                  s3={"addressing_style": "path" if settings().aws_endpoint else "virtual"})


@functools.lru_cache(maxsize=None)
def client(service: str):
    s = settings()
    return botocore.session.get_session().create_client(service, region_name=s.region, endpoint_url=s.aws_endpoint,
                                                        config=_config(service))
