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
        "tip_total": 500, "price": None, "video_url": None, "video_id": None, "has_video": False,
        "view_count": 0, "audience": "public", "locked": False}
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
CHECK = {"id": "chk_3d9t1qk7m2c8v5x0b4n6e2hw1r", "number": 1001, "payee": "Bob's Bakery", "amount": 2500,
         "currency": "USD", "memo": "bread for March", "status": "issued",
         "micr": {"routing": "123456780", "account": "40718823551", "serial": "1001"},
         "issued_at": "2026-03-10T15:00:00.000Z", "paid_at": None, "return_reason": None}
CHECK_DEPOSIT = {"id": "dep_5k2w0fq9e1b7c3m8x4h6t2rj0a", "amount": 50000, "currency": "USD", "status": "pending",
                 "available_now": 0, "holds": [{"amount": 27500, "available_on": "2026-03-11"},
                                               {"amount": 22500, "available_on": "2026-03-12"}],
                 "pending_holds": [{"amount": 27500, "available_on": "2026-03-11"},
                                   {"amount": 22500, "available_on": "2026-03-12"}],
                 "micr": {"routing": "021000021", "account": "99887766", "serial": "4411"},
                 "created_at": "2026-03-10T15:00:00.000Z", "returned_at": None, "return_reason": None}
AUDIT = {"id": "aud_01m8ts1n5nkeb5jmtjfvrvew1z", "at": "2026-03-10T15:00:00.000Z", "actor": "admin",
         "action": "verify", "target": "alice", "reason": "KYC documents checked"}
CARD = {"id": "card_2y3e11sgqnchz6wcdt28prnfz5", "brand": "visa", "last4": "4242", "exp_month": 3,
        "exp_year": 2030, "label": "groceries", "status": "active",
        "limits": {"per_transaction": None, "daily": 50000, "monthly": None, "blocked_mccs": ["7995"],
                   "allowed_countries": []}, "created_at": "2026-03-10T15:00:00.000Z"}
MERCHANT = {"name": "Corner Shop", "mcc": "5411", "city": "Portland", "country": "US"}
CARD_TRANSACTION = {"id": "ctx_4ayarx8nfd9j5jv5hw92s5ycjw", "card_id": CARD["id"],
                    "authorization_id": "auth_0b1vq9f0x3m2qz8r7k6w5e4d3c", "status": "posted", "forced": False,
                    "amount_held": 2500, "amount_posted": 2300, "amount_refunded": 0, "currency": "USD",
                    "merchant": MERCHANT, "decline_reason": None, "cashback": 23,
                    "created_at": "2026-03-10T15:00:00.000Z"}
# The well-known Visa test number (Luhn-valid, not on Flock's BIN).
CARD_NUMBER = "4111111111111111"


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
    "CreateCardBody": {"label": "groceries"},
    "RevealBody": {"password": "correct horse battery"},
    "LimitsBody": {"daily": 50000, "blocked_mccs": ["7995"], "allowed_countries": ["US", "CA"]},
    "AuthorizationBody": {"id": "evt_1", "card_number": CARD_NUMBER, "exp_month": 3, "exp_year": 2030, "cvc": "123",
                          "amount": 2500, "currency": "USD", "merchant": MERCHANT},
    "IncrementBody": {"id": "evt_2", "amount": 500},
    "ClearingBody": {"id": "evt_3", "authorization_id": "auth_0b1vq9f0x3m2qz8r7k6w5e4d3c", "amount": 2300,
                     "currency": "USD"},
    "ReversalBody": {"id": "evt_4", "authorization_id": "auth_0b1vq9f0x3m2qz8r7k6w5e4d3c", "amount": 200},
    "RefundBody": {"id": "evt_5", "card_number": CARD_NUMBER, "amount": 1000, "currency": "USD", "merchant": MERCHANT},
    "CheckBody": {"payee": "Bob's Bakery", "amount": 2500, "currency": "USD", "memo": "bread for March"},
    "CheckDepositBody": {"amount": 50000, "currency": "USD",
                         "micr": {"routing": "021000021", "account": "99887766", "serial": "4411"},
                         "front_image": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
                         "back_image": "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ==",
                         "endorsed": True},
    "PresentmentBody": {"id": "evt_ck_8812", "routing": "123456780", "account": "40718823551", "serial": "1001",
                        "amount": 2500, "currency": "USD", "payee": "Bob's Bakery"},
    "CheckReturnBody": {"id": "evt_ck_9120", "deposit_id": "dep_5k2w0fq9e1b7c3m8x4h6t2rj0a",
                        "reason": "not_sufficient_funds"},
}

# Response schema name -> an example answer.
RESPONSES = {
    "User": USER,
    "Session": {"user": USER, "token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMDEifQ.c2lnbmF0dXJl"},
    "Account": {"id": "acct_01m8ts1mjyqe9d3zy3k0be56g3", "currency": "USD", "balance": 7500, "held": 0,
                "available": 7500, "credit_limit": 0, "spendable": 7500, "apy_bps": 450, "overdraft_apr_bps": 1800,
                "accrued_interest_micros": 9241, "status": "active", "account_number": "15515414957",
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
                 "by_kind": {"tip": {"gross": 0, "fees": 0, "net": 0, "count": 0},
                             "unlock": {"gross": 4990, "fees": 499, "net": 4491, "count": 10},
                             "subscription": {"gross": 0, "fees": 0, "net": 0, "count": 0}}},
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
    "Card": CARD,
    "NewCard": {**CARD, "number": CARD_NUMBER, "cvc": "123"},
    "CardPage": _page(CARD),
    "CardSecrets": {"number": CARD_NUMBER, "cvc": "123", "exp_month": 3, "exp_year": 2030},
    "CardTransaction": CARD_TRANSACTION,
    "CardTransactionPage": _page(CARD_TRANSACTION),
    "CardDecision": {"id": "evt_1", "authorization_id": "auth_0b1vq9f0x3m2qz8r7k6w5e4d3c", "approved": True,
                     "amount_approved": 2500, "decline_reason": None,
                     "card_transaction_id": "ctx_4ayarx8nfd9j5jv5hw92s5ycjw"},
    "Check": CHECK,
    "CheckPage": _page(CHECK),
    "CheckDeposit": CHECK_DEPOSIT,
    "CheckDepositPage": _page(CHECK_DEPOSIT),
    "CheckPresentmentDecision": {"decision": "returned", "return_reason": "stop_payment",
                                 "check_id": CHECK["id"]},
    "Health": {"status": "ok"},
    "Clock": {"now": "2026-03-11T15:00:00.000Z"},
    "JobSummary": {"job": "accrue-interest", "as_of": "2026-03-09", "processed": 120, "changed": 118},
    "LedgerCheck": {"balanced": True, "total": 0, "accounts": 240},
    "Error": {"error": {"type": "business_error", "code": "insufficient_funds",
                        "message": "Not enough money for this payment.", "param": "amount"}},
}
