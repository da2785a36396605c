"""Response shapes of API.md for the OpenAPI document; tests/unit/test_openapi.py
checks them against real answers.

`SCHEMAS` becomes `components/schemas`. A value is either a response model
of `api/models/` (the way to add one: the schema, its `date-time` formats and
enums are generated from it, and the test validates answers with the model too)
or a JSON schema dict (OpenAPI 3.1 dialect), which still works beside them; the
helpers below are for such dicts. Objects list the fields API.md fixes as
required and stay open (API.md: "add fields freely").
`SUCCESS` maps each view to the answer of its success status (and the other
success statuses it may use).
"""
from chalicelib.api.models import cards, common, creator, identity, loans, money, operations, social

ID = {"type": "string", "minLength": 1}
TIME = {"type": "string", "format": "date-time"}  # ISO 8601 UTC with Z
DATE = {"type": "string", "format": "date"}
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
               "insufficient_funds", "limit_exceeded", "self_transfer", "card_declined", "not_eligible", "step_up_required",
               "rate_limited", "invalid_signature"]

MONEY_OUT = ref("Money")

HEADERS = common.HEADERS  # components/headers

SCHEMAS = {
    "Error": common.Error,
    "Money": common.Money,
    "User": identity.User,
    "Session": identity.Session,
    "SignIn": identity.SignIn,
    "Tokens": identity.Tokens,
    "DeviceSession": identity.DeviceSession,
    "DeviceSessionPage": identity.DeviceSessionPage,
    "SecurityEvent": identity.SecurityEvent,
    "SecurityEventPage": identity.SecurityEventPage,
    "TotpEnrolment": identity.TotpEnrolment,
    "RecoveryCodes": identity.RecoveryCodes,
    "Account": money.Account,
    "Transfer": money.Transfer,
    "Entry": money.Entry,
    "Statement": money.Statement,
    "Post": social.Post,
    "Following": social.Following,
    "Liked": social.Liked,
    "Conversation": social.Conversation,
    "Message": social.Message,
    "PaymentRequest": money.PaymentRequest,
    "Subscription": creator.Subscription,
    "SubscriptionPrice": creator.SubscriptionPrice,
    "Unlocked": creator.Unlocked,
    "Earnings": creator.Earnings,
    "JobSummary": operations.JobSummary,
    "JobStarted": operations.JobStarted,
    "JobRun": operations.JobRun,
    "LedgerCheck": money.LedgerCheck,
    "Rates": money.Rates,
    "Clock": operations.Clock,
    "Health": operations.Health,
    "OpenApiDocument": operations.OpenApiDocument,
    "AuditRecord": identity.AuditRecord,
    "LoanRow": loans.LoanRow,
    "LoanOffer": loans.LoanOffer,
    "LoanApplication": loans.LoanApplication,
    "Loan": loans.Loan,
    "LoanPage": loans.LoanPage,
    "LoanPayment": loans.LoanPayment,
    "LoanPayoff": loans.LoanPayoff,
    "LoanProducts": loans.LoanProducts,
    "UserPage": identity.UserPage,
    "PostPage": social.PostPage,
    "EntryPage": money.EntryPage,
    "ConversationPage": social.ConversationPage,
    "MessagePage": social.MessagePage,
    "PaymentRequestPage": money.PaymentRequestPage,
    "SubscriptionPage": creator.SubscriptionPage,
    "AuditPage": identity.AuditPage,
    "SearchPage": social.SearchPage,
    # A video never carries a URL (closed: nothing may be added that could).
    "Video": {**obj({"id": ID, "status": {"type": "string", "enum": ["pending", "ready", "rejected"]},
                     "size_bytes": {"type": "integer", "minimum": 1}, "content_type": {"type": "string"},
                     "created_at": TIME}, {"post_id": NULLABLE_STR}), "additionalProperties": False},
    "VideoUpload": obj({"id": ID, "upload": obj({"url": {"type": "string", "minLength": 1},
                                                 "fields": {"type": "object",
                                                            "additionalProperties": {"type": "string"}}}),
                        "expires_at": TIME}),
    "VideoPlayback": obj({"url": {"type": "string", "minLength": 1}, "expires_at": TIME}),
    "CardLimits": cards.CardLimits,
    "Card": cards.Card,
    "NewCard": cards.NewCard,
    "CardPage": cards.CardPage,
    "CardSecrets": cards.CardSecrets,
    "Merchant": cards.Merchant,
    "CardTransaction": cards.CardTransaction,
    "CardTransactionPage": cards.CardTransactionPage,
    "CardDecision": cards.CardDecision,
}

# view -> {status: schema name or None (no body)}; the route's declared
# status comes first.
SUCCESS = {
    "health": {200: "Health"},
    "openapi_document": {200: "OpenApiDocument"},
    "docs_page": {200: None},
    "web_client": {200: None},
    "web_asset": {200: None},
    "test_clock": {200: "Clock"},
    "run_job": {200: "JobSummary", 202: "JobStarted"},
    "job_run": {200: "JobRun"},
    "set_rates": {200: "Rates"},
    "ledger_check": {200: "LedgerCheck"},
    "audit_trail": {200: "AuditPage"},
    "signup": {201: "Session"},
    "login": {200: "SignIn"},
    "refresh": {200: "Tokens"},
    "finish_mfa": {200: "Session"},
    "enrol_totp": {200: "TotpEnrolment"},
    "confirm_totp": {200: "RecoveryCodes"},
    "disable_totp": {204: None},
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
    "get_statement_csv": {200: None},
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
    "clear_subscription_price": {200: "SubscriptionPrice"},
    "subscribe": {201: "Subscription"},
    "cancel": {200: "Subscription"},
    "my_subscriptions": {200: "SubscriptionPage"},
    "pay_in_conversation": {201: "Message"},
    "earnings": {200: "Earnings"},
    "create_video": {201: "VideoUpload"},
    "complete_video": {200: "Video"},
    "get_video": {200: "Video"},
    "play_video": {200: "VideoPlayback"},
    "apply_for_loan": {201: "LoanApplication"},
    "loan_application": {200: "LoanApplication"},
    "accept_loan_offer": {201: "Loan"},
    "list_loans": {200: "LoanPage"},
    "get_loan": {200: "Loan"},
    "pay_loan": {201: "LoanPayment"},
    "loan_payoff": {200: "LoanPayoff"},
    "set_loan_products": {200: "LoanProducts"},
    "create_card": {201: "NewCard"},
    "list_cards": {200: "CardPage"},
    "get_card": {200: "Card"},
    "reveal_card": {200: "CardSecrets"},
    "freeze_card": {200: "Card"},
    "unfreeze_card": {200: "Card"},
    "close_card": {200: "Card"},
    "set_card_limits": {200: "Card"},
    "card_transactions": {200: "CardTransactionPage"},
    "card_authorization": {200: "CardDecision"},
    "card_increment": {200: "CardDecision"},
    "card_clearing": {200: "CardTransaction"},
    "card_reversal": {200: "CardTransaction"},
    "card_refund": {200: "CardTransaction"},
}

# Refusals beyond those every route can give (400, 404; 401 and 403 when it
# needs a token): view -> statuses.
EXTRA_ERRORS = {
    "signup": {409, 429},
    "login": {401, 429},
    "refresh": {401},
    "finish_mfa": {401, 429},
    "enrol_totp": {409},
    "confirm_totp": {409},
    "disable_totp": {409, 429},
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
    "apply_for_loan": {409},
    "accept_loan_offer": {409, 422, 503},
    "pay_loan": {409, 422, 503},
    "unlock": {409, 422, 503},
    "subscription_price": {422},
    "clear_subscription_price": set(),
    "subscribe": {409, 422, 503},
    "cancel": {409},
    "pay_in_conversation": {409, 422, 503},
    "create_card": {409, 422, 503},
    "reveal_card": {401, 409, 429},
    "freeze_card": {409},
    "unfreeze_card": {409},
    "close_card": {409},
    "set_card_limits": {409},
    "card_authorization": {401, 409, 503},
    "card_increment": {401, 409, 503},
    "card_clearing": {401, 409, 503},
    "card_reversal": {401, 409, 503},
    "card_refund": {401, 409, 422, 503},
}
