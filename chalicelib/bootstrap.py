"""A new stack's one-time setup, as a CloudFormation custom resource: the
deploy creates the system accounts itself, so a fresh stack moves money from
its first request instead of refusing every movement until an operator runs
`python -m chalicelib.cli bootstrap`.

CloudFormation waits (up to an hour) for an answer PUT to the pre-signed
`ResponseURL`, so every outcome, a failure too, is answered. Setup is
idempotent: an update, or a retried create, creates only what is missing.
Delete does nothing: the tables are retained, and their accounts with them.
"""
import json
import logging
import urllib.request

from chalicelib.finance import accounts

log = logging.getLogger("flock.bootstrap")

PHYSICAL_ID = "flock-system-accounts"
RESPONSE_TIMEOUT_S = 10


def handle(event: dict) -> dict:
    status, reason, data = "SUCCESS", "system accounts in place", {}
    try:
        if event["RequestType"] in ("Create", "Update"):
            data["SystemAccountShardsCreated"] = accounts.ensure_system_accounts()
    except Exception:  # the answer must go out whatever failed; the details go to the log
        log.exception("bootstrap failed")
        status, reason = "FAILED", "Creating the system accounts failed; see the function's log."
    answer = {"Status": status, "Reason": reason, "PhysicalResourceId": event.get("PhysicalResourceId", PHYSICAL_ID),
              "StackId": event["StackId"], "RequestId": event["RequestId"],
              "LogicalResourceId": event["LogicalResourceId"], "Data": data}
    body = json.dumps(answer).encode()
    # The URL is signed for an empty content type.
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_S) as response:
        response.read()
    return answer
