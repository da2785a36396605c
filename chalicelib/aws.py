"""botocore clients for the AWS services besides DynamoDB (Secrets Manager,
SQS), one per service per process. botocore rather than boto3: PynamoDB
already loads botocore, and boto3 (with s3transfer) would add about a third
to the cold start for nothing Flock uses."""
import functools

import botocore.session

from chalicelib.config import settings


@functools.lru_cache(maxsize=None)
def client(service: str):
    s = settings()
    return botocore.session.get_session().create_client(service, region_name=s.region, endpoint_url=s.aws_endpoint)
