"""Response shapes of API.md as JSON schemas (OpenAPI 3.1 dialect), kept by
hand beside the services that build them; tests/unit/test_openapi.py checks
them against real answers. Objects list the fields API.md fixes as required
and stay open (API.md: "add fields freely"), except where noted.

`SCHEMAS` becomes `components/schemas`; `SUCCESS` maps each view to the
answer of its success status (and the other success statuses it may use).
"""

ID = {"type": "string", "minLength": 1}
TIME = {"type": "string", "minLength": 1}  # ISO 8601 UTC with Z
INT = {"type": "integer"}
COUNT = {"type": "integer", "minimum": 0}
NULLABLE_STR = {"type": ["string", "null"]}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict, optional: dict | None = None) -> dict:
    return {"type": "object", "required": sorted(required),
            "properties": {**required, **(optional or {})}}


def page(item: str) -> dict:
    return obj({"data": {"type": "array", "items": ref(item)}, "next_cursor": NULLABLE_STR})


ERROR_CODES = ["invalid_request", "idempotency_key_required", "unsupported_currency", "unauthenticated",
               "invalid_credentials", "forbidden", "verification_required", "account_frozen", "not_found",
               "already_exists", "idempotency_key_reused", "handle_taken", "invalid_state",
               "insufficient_funds", "limit_exceeded", "self_transfer", "card_declined", "not_eligible",
               "rate_limited"]

MONEY_OUT = obj({"amount": INT, "currency": {"type": "string"}})

SCHEMAS = {
    "Error": obj({"error": {**obj({
        "type": {"type": "string", "enum": ["invalid_request_error", "authentication_error", "permission_error",
                                            "not_found_error", "conflict_error", "business_error",
                                            "rate_limit_error", "api_error"]},
        "code": {"type": "string", "enum": ERROR_CODES + ["internal_error", "unavailable"]},
        "message": {"type": "string"},
        "param": NULLABLE_STR,
    }, {"reasons": {"type": "array", "items": {"type": "string"}}})}}),
    "Money": MONEY_OUT,
    "User": obj({"id": ID, "handle": {"type": "string"}, "display_name": NULLABLE_STR, "bio": NULLABLE_STR,
                 "verified": {"type": "boolean"}, "role": {"type": "string"}, "created_at": TIME,
                 "follower_count": COUNT, "following_count": COUNT},
                {"frozen": {"type": "boolean"}}),
    "Session": obj({"user": ref("User"), "token": {"type": "string", "minLength": 1}},
                   {"refresh_token": {"type": "string", "minLength": 1}}),
    "SignIn": {"anyOf": [ref("Session"), obj({"mfa_required": {"type": "boolean", "const": True},
                                              "mfa_token": {"type": "string", "minLength": 1}})]},
    "Tokens": obj({"token": {"type": "string", "minLength": 1}, "refresh_token": {"type": "string", "minLength": 1}}),
    "DeviceSession": obj({"id": ID, "created_at": TIME, "last_used_at": TIME, "user_agent": {"type": "string"},
                          "ip": {"type": "string"}, "current": {"type": "boolean"}}),
    "DeviceSessionPage": page("DeviceSession"),
    "SecurityEvent": obj({"id": ID, "type": {"type": "string"}, "created_at": TIME, "ip": {"type": "string"},
                          "user_agent": {"type": "string"}, "detail": {"type": "object"}}),
    "SecurityEventPage": page("SecurityEvent"),
    "Account": obj({"id": ID, "currency": {"type": "string"}, "balance": INT, "held": INT, "available": INT,
                    "credit_limit": COUNT, "spendable": INT, "apy_bps": COUNT, "overdraft_apr_bps": COUNT,
                    "accrued_interest_micros": INT, "status": {"type": "string"},
                    "account_number": {"type": "string"}, "routing_number": {"type": "string"},
                    "opened_at": TIME}),
    "Transfer": obj({"id": ID, "kind": {"type": "string"}, "from": NULLABLE_STR, "to": NULLABLE_STR,
                     "amount": {"type": "integer", "minimum": 0}, "currency": {"type": "string"},
                     "note": {"type": "string"}, "status": {"type": "string"}, "created_at": TIME}),
    "Entry": obj({"id": ID, "transfer_id": ID, "kind": {"type": "string"}, "amount": INT,
                  "currency": {"type": "string"}, "counterparty": NULLABLE_STR, "created_at": TIME},
                 {"note": {"type": "string"}}),
    "Statement": obj({"month": {"type": "string"}, "opening_balance": INT, "closing_balance": INT,
                      "total_in": COUNT, "total_out": COUNT, "interest_earned": INT, "interest_charged": INT,
                      "entries": {"type": "array", "items": ref("Entry")}},
                     {"account_id": ID, "currency": {"type": "string"}}),
    "Post": obj({"id": ID, "author": {"type": "string"}, "text": {"type": "string"}, "created_at": TIME,
                 "reply_to": NULLABLE_STR, "like_count": COUNT, "reply_count": COUNT, "tip_total": COUNT,
                 "price": {"anyOf": [ref("Money"), {"type": "null"}]}, "video_url": NULLABLE_STR,
                 "audience": {"type": "string", "enum": ["public", "subscribers"]}, "locked": {"type": "boolean"}}),
    "Following": obj({"following": {"type": "boolean"}}),
    "Liked": obj({"liked": {"type": "boolean"}, "like_count": COUNT}),
    "Conversation": obj({"id": ID, "with": NULLABLE_STR, "members": {"type": "array", "items": {"type": "string"}},
                         "created_at": TIME, "last_activity_at": {"type": ["string", "null"]},
                         "unread_count": COUNT, "last_message_preview": NULLABLE_STR}),
    "Message": obj({"id": ID, "conversation_id": ID, "sender": {"type": "string"}, "text": {"type": "string"},
                    "created_at": TIME, "payment": {"anyOf": [ref("Transfer"), {"type": "null"}]}}),
    "PaymentRequest": obj({"id": ID, "from": {"type": "string"}, "to": {"type": "string"}, "amount": COUNT,
                           "currency": {"type": "string"}, "note": {"type": "string"},
                           "status": {"type": "string"}, "created_at": TIME,
                           "paid": {"anyOf": [ref("Transfer"), {"type": "null"}]}}),
    "Subscription": obj({"id": ID, "creator": {"type": "string"}, "subscriber": {"type": "string"},
                         "status": {"type": "string"}, "price": ref("Money"),
                         "current_period_start": TIME, "current_period_end": TIME,
                         "cancel_at_period_end": {"type": "boolean"}, "periods_paid": COUNT, "created_at": TIME}),
    "SubscriptionPrice": obj({"subscription_price": {"anyOf": [ref("Money"), {"type": "null"}]}}),
    "Unlocked": obj({"post_id": ID, "unlocked": {"type": "boolean"}, "charged": {"type": "boolean"},
                     "transfer": {"anyOf": [ref("Transfer"), {"type": "null"}]}}),
    "Earnings": obj({"month": {"type": "string"}, "currency": {"type": "string"}, "gross": INT, "fees": INT,
                     "net": INT, "by_kind": {"type": "object"}}),
    "JobSummary": obj({"job": {"type": "string"}, "as_of": {"type": "string"}, "processed": COUNT,
                       "changed": COUNT}),
    "JobStarted": obj({"run_id": ID, "job": {"type": "string"}, "as_of": {"type": "string"}}),
    "JobRun": obj({"run_id": ID, "job": {"type": "string"}, "as_of": {"type": "string"}, "segments": COUNT,
                   "segments_done": COUNT, "status": {"type": "string"}, "processed": COUNT, "changed": COUNT}),
    "LedgerCheck": obj({"balanced": {"type": "boolean"}, "total": INT, "accounts": COUNT}),
    "Rates": obj({"effective_date": {"type": "string"}, "apy_bps": COUNT, "overdraft_apr_bps": COUNT}),
    "Clock": obj({"now": TIME}),
    "Health": obj({"status": {"type": "string"}}),
    "OpenApiDocument": obj({"openapi": {"type": "string"}, "paths": {"type": "object"}}),
    "AuditRecord": obj({"id": ID, "at": TIME, "actor": {"type": "string"}, "action": {"type": "string"},
                        "target": {"type": "string"}}),
    "UserPage": page("User"),
    "PostPage": page("Post"),
    "EntryPage": page("Entry"),
    "ConversationPage": page("Conversation"),
    "MessagePage": page("Message"),
    "PaymentRequestPage": page("PaymentRequest"),
    "SubscriptionPage": page("Subscription"),
    "AuditPage": page("AuditRecord"),
    "SearchPage": obj({"data": {"type": "array", "items": {"anyOf": [ref("Post"), ref("User")]}},
                       "next_cursor": NULLABLE_STR}),
}

# view -> {status: schema name or None (no body)}; the route's declared
# status comes first.
SUCCESS = {
    "health": {200: "Health"},
    "openapi_document": {200: "OpenApiDocument"},
    "docs_page": {200: None},
    "test_clock": {200: "Clock"},
    "run_job": {200: "JobSummary", 202: "JobStarted"},
    "job_run": {200: "JobRun"},
    "set_rates": {200: "Rates"},
    "ledger_check": {200: "LedgerCheck"},
    "audit_trail": {200: "AuditPage"},
    "signup": {201: "Session"},
    "login": {200: "SignIn"},
    "refresh": {200: "Tokens"},
    "list_sessions": {200: "DeviceSessionPage"},
    "end_session": {204: None},
    "security_events": {200: "SecurityEventPage"},
    "logout": {204: None},
    "get_me": {200: "User"},
    "patch_me": {200: "User"},
    "change_password": {200: "Session"},
    "get_user": {200: "User"},
    "verify": {200: "User"},
    "freeze": {200: "User"},
    "unfreeze": {200: "User"},
    "credit_limit": {200: "Account"},
    "get_wallet": {200: "Account"},
    "list_transactions": {200: "EntryPage"},
    "get_statement": {200: "Statement"},
    "deposit": {201: "Transfer"},
    "withdraw": {201: "Transfer"},
    "send": {201: "Transfer"},
    "get_transfer": {200: "Transfer"},
    "create_request": {201: "PaymentRequest"},
    "list_requests": {200: "PaymentRequestPage"},
    "pay_request": {200: "PaymentRequest"},
    "decline_request": {200: "PaymentRequest"},
    "credit_line": {200: "Account"},
    "follow": {200: "Following"},
    "unfollow": {200: "Following"},
    "followers": {200: "UserPage"},
    "following": {200: "UserPage"},
    "create_post": {201: "Post"},
    "get_post": {200: "Post"},
    "delete_post": {204: None},
    "user_posts": {200: "PostPage"},
    "like": {200: "Liked"},
    "unlike": {200: "Liked"},
    "home_timeline": {200: "PostPage"},
    "search_route": {200: "SearchPage"},
    "open_conversation": {201: "Conversation", 200: "Conversation"},
    "list_conversations": {200: "ConversationPage"},
    "send_message": {201: "Message"},
    "list_messages": {200: "MessagePage"},
    "tip": {201: "Transfer"},
    "unlock": {201: "Transfer", 200: "Unlocked"},
    "subscription_price": {200: "SubscriptionPrice"},
    "subscribe": {201: "Subscription"},
    "cancel": {200: "Subscription"},
    "my_subscriptions": {200: "SubscriptionPage"},
    "pay_in_conversation": {201: "Message"},
    "earnings": {200: "Earnings"},
}

# Refusals beyond those every route can give (400, 404; 401 and 403 when it
# needs a token): view -> statuses.
EXTRA_ERRORS = {
    "signup": {409, 429},
    "login": {401, 429},
    "refresh": {401},
    "change_password": {429},
    "run_job": set(),
    "credit_limit": {409, 422},
    "verify": {409},
    "freeze": {409},
    "unfreeze": {409},
    "set_rates": {409},
    "deposit": {409, 422, 503},
    "withdraw": {409, 422, 503},
    "send": {409, 422, 503},
    "create_request": {422},
    "pay_request": {409, 422, 503},
    "decline_request": {409},
    "credit_line": {409, 422},
    "follow": {409, 422},
    "create_post": {409, 422},
    "open_conversation": {409, 422},
    "send_message": {409, 422},
    "tip": {409, 422, 503},
    "unlock": {409, 422, 503},
    "subscription_price": {422},
    "subscribe": {409, 422, 503},
    "cancel": {409},
    "pay_in_conversation": {409, 422, 503},
}
