"""Examples for the OpenAPI document (what /docs shows beside each schema):
a request body per body model and an answer per response schema, by name.
tests/unit/test_openapi_examples.py checks each against its model or schema,
so an example cannot drift from what the API accepts and answers."""

USER = {"id": "usr_01m8ts1mjyqe9d3zy3k0be56g3", "handle": "alice", "display_name": "Alice", "bio": "Bakes bread.",
        "verified": True, "role": "user", "created_at": "2026-03-10T15:00:00.000Z", "follower_count": 12,
        "following_count": 3, "frozen": False}
TRANSFER = {"id": "tr_7jxfxqdqyr41ct6m899pjbmjh9", "kind": "p2p", "from": "alice", "to": "bob", "amount": 2500,
            "currency": "USD", "note": "lunch", "status": "posted", "created_at": "2026-03-10T15:00:00.000Z",
            "forced": False}
ENTRY = {"id": "ent_01m8ts1n5nkeb5jmtjfvrvew1z", "transfer_id": TRANSFER["id"], "kind": "p2p", "amount": -2500,
         "currency": "USD", "counterparty": "bob", "created_at": "2026-03-10T15:00:00.000Z", "note": "lunch"}
POST = {"id": "post_01m8ts1n5nkeb5jmtjfvrvew1z", "author": "alice", "text": "سلام! First post on Flock.",
        "created_at": "2026-03-10T15:00:00.000Z", "reply_to": None, "like_count": 3, "reply_count": 1,
        "tip_total": 500, "price": None, "video_url": None, "audience": "public", "locked": False}
MESSAGE = {"id": "msg_01m8ts1n5nkeb5jmtjfvrvew1z", "conversation_id": "conv_01m8ts1mjyqe9d3zy3k0be56g3",
           "sender": "alice", "text": "my half", "created_at": "2026-03-10T15:00:00.000Z",
           "payment": {**TRANSFER, "kind": "message_payment", "amount": 1500, "note": "my half"}}
REQUEST = {"id": "req_01m8ts1n5nkeb5jmtjfvrvew1z", "from": "bob", "to": "alice", "amount": 1500, "currency": "USD",
           "note": "race entry", "status": "pending", "created_at": "2026-03-10T15:00:00.000Z", "paid": None}
SUBSCRIPTION = {"id": "sub_01m8ts1n5nkeb5jmtjfvrvew1z", "creator": "lena", "subscriber": "alice", "status": "active",
                "price": {"amount": 300, "currency": "USD"}, "current_period_start": "2026-03-10T15:00:00.000Z",
                "current_period_end": "2026-04-10T15:00:00.000Z", "cancel_at_period_end": False, "periods_paid": 1,
                "created_at": "2026-03-10T15:00:00.000Z"}
CONVERSATION = {"id": "conv_01m8ts1mjyqe9d3zy3k0be56g3", "with": "bob", "members": ["alice", "bob"],
                "created_at": "2026-03-10T15:00:00.000Z", "last_activity_at": "2026-03-10T15:00:00.000Z",
                "unread_count": 0, "last_message_preview": "my half"}
AUDIT = {"id": "aud_01m8ts1n5nkeb5jmtjfvrvew1z", "at": "2026-03-10T15:00:00.000Z", "actor": "admin",
         "action": "verify", "target": "alice", "reason": "KYC documents checked"}


def _page(item) -> dict:
    return {"data": [item], "next_cursor": None}


# Body model name -> an example body.
REQUESTS = {
    "Signup": {"handle": "alice", "password": "correct horse battery", "display_name": "Alice"},
    "Login": {"handle": "alice", "password": "correct horse battery"},
    "PatchMe": {"display_name": "Alice", "bio": "Bakes bread."},
    "ChangePassword": {"current_password": "correct horse battery", "new_password": "another horse battery"},
    "AdminReason": {"reason": "KYC documents checked"},
    "CreditLimit": {"credit_limit": 50000, "reason": "good history"},
    "MoneyBody": {"amount": 2500, "currency": "USD"},
    "PaymentBody": {"amount": 1500, "currency": "USD", "note": "my half"},
    "TransferBody": {"to": "bob", "amount": 2500, "currency": "USD", "note": "lunch"},
    "RequestBody": {"from": "bob", "amount": 1500, "currency": "USD", "note": "race entry"},
    "CreditLineBody": {"requested_limit": 50000},
    "PostBody": {"text": "My training plan, week by week", "price": {"amount": 499, "currency": "USD"},
                 "audience": "public"},
    "ConversationBody": {"with": "bob"},
    "subscription_price": {"amount": 300, "currency": "USD"},  # a raw body (no model): by view name
    "MessageBody": {"text": "سلام! dinner was great"},
    "TestClockBody": {"advance_days": 1},
    "JobBody": {"as_of": "2026-03-09"},
    "RatesBody": {"apy_bps": 450, "overdraft_apr_bps": 1800, "effective_date": "2026-03-10"},
    "Refresh": {"refresh_token": "rt_1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"},
    "Mfa": {"mfa_token": "mfa_9f8e7d6c5b4a39281706f5e4d3c2b1a0", "code": "492039"},
    "TotpCode": {"code": "492039"},
    "DisableTwoFactor": {"password": "correct horse battery", "code": "492039"},
    "ApplicationBody": {"amount": 250000, "term_months": 12},
    "PocketMoneyBody": {"amount": 2500, "currency": "EUR"},
    "WithdrawalBody": {"amount": 2500, "currency": "EUR", "iban": "DE89 3704 0044 0532 0130 00"},
    "QuoteBody": {"sell_currency": "USD", "buy_currency": "EUR", "sell_amount": 10000},
    "ConversionBody": {"quote_id": "fxq_01m8ts1n5nkeb5jmtjfvrvew1z"},
    "FxRatesBody": {"base": "USD", "rates": {"EUR": "0.80", "JPY": "150"}, "reason": "morning fix"},
}

# Response schema name -> an example answer.
RESPONSES = {
    "User": USER,
    "Session": {"user": USER, "token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMDEifQ.c2lnbmF0dXJl"},
    "Account": {"id": "acct_01m8ts1mjyqe9d3zy3k0be56g3", "currency": "USD", "balance": 7500, "held": 0,
                "available": 7500, "credit_limit": 0, "spendable": 7500, "apy_bps": 450, "overdraft_apr_bps": 1800,
                "accrued_interest_micros": 9241, "status": "open", "account_number": "15515414957",
                "routing_number": "123456780", "opened_at": "2026-03-01T09:00:00.000Z"},
    "Transfer": TRANSFER,
    "Entry": ENTRY,
    "EntryPage": _page(ENTRY),
    "Statement": {"month": "2026-03", "opening_balance": 0, "closing_balance": 7500, "total_in": 10000,
                  "total_out": 2500, "interest_earned": 0, "interest_charged": 0, "entries": [ENTRY]},
    "Post": POST,
    "PostPage": _page(POST),
    "UserPage": _page(USER),
    "SearchPage": _page(POST),
    "Following": {"following": True},
    "Liked": {"liked": True, "like_count": 4},
    "Conversation": CONVERSATION,
    "ConversationPage": _page(CONVERSATION),
    "Subscription": SUBSCRIPTION,
    "SubscriptionPage": _page(SUBSCRIPTION),
    "SubscriptionPrice": {"subscription_price": {"amount": 300, "currency": "USD"}},
    "Earnings": {"month": "2026-03", "currency": "USD", "gross": 4990, "fees": 499, "net": 4491,
                 "by_kind": {"unlock": 4491, "tip": 0}},
    "Rates": {"effective_date": "2026-03-10", "apy_bps": 450, "overdraft_apr_bps": 1800},
    "JobStarted": {"run_id": "run_01m8ts1n5nkeb5jmtjfvrvew1z", "job": "accrue-interest", "as_of": "2026-03-09"},
    "JobRun": {"run_id": "run_01m8ts1n5nkeb5jmtjfvrvew1z", "job": "accrue-interest", "as_of": "2026-03-09",
               "segments": 8, "segments_done": 8, "status": "done", "processed": 120, "changed": 118},
    "AuditPage": _page(AUDIT),
    "Message": MESSAGE,
    "MessagePage": _page(MESSAGE),
    "PaymentRequest": REQUEST,
    "PaymentRequestPage": _page(REQUEST),
    "Unlocked": {"post_id": POST["id"], "unlocked": True, "charged": True,
                 "transfer": {**TRANSFER, "kind": "unlock", "amount": 499, "note": ""}},
    "Health": {"status": "ok"},
    "Clock": {"now": "2026-03-11T15:00:00.000Z"},
    "JobSummary": {"job": "accrue-interest", "as_of": "2026-03-09", "processed": 120, "changed": 118},
    "LedgerCheck": {"balanced": True, "total": 0, "accounts": 240},
    "Error": {"error": {"type": "business_error", "code": "insufficient_funds",
                        "message": "Not enough money for this payment.", "param": "amount"}},
    "Quote": {"id": "fxq_01m8ts1n5nkeb5jmtjfvrvew1z", "sell_currency": "USD", "buy_currency": "EUR",
              "rate": "0.7960000000", "mid_rate": "0.8", "sell_amount": 10000, "buy_amount": 7936, "fee": 30,
              "expires_at": "2026-03-10T15:00:30.000Z", "status": "open"},
    "FxRates": {"base": "USD", "rates": {"EUR": "0.80", "JPY": "150", "USD": "1"}, "as_of": "2026-03-10",
                "source": "admin"},
    "PocketList": {"data": [{"id": "acct_01m8ts1mjyqe9d3zy3k0be56g3_eur", "currency": "EUR", "balance": 7936,
                             "held": 0, "available": 7936, "credit_limit": 0, "spendable": 7936, "apy_bps": 0,
                             "overdraft_apr_bps": 0, "accrued_interest_micros": 0, "status": "active",
                             "account_number": "15515414957", "routing_number": "123456780",
                             "opened_at": "2026-03-10T15:00:00.000Z"}]},
}
