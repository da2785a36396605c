"""Flock's refusals: one ApiError subclass per code of API.md.

Every refusal reaches the client as
`{"error": {"type", "code", "message", "param"}}`; the HTTP status lives here
and nowhere else.
"""


class ApiError(Exception):
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"
    default_message = "The request is invalid."

    def __init__(self, message: str | None = None, param: str | None = None, headers: dict | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict:
        body = error_body(self.type, self.code, self.message, self.param)
        if getattr(self, "reasons", None):
            body["error"]["reasons"] = list(self.reasons)  # why a decision went against the caller
        return body


class Replayed(Exception):
    """Not a refusal: the request was answered before (a network event id
    seen again with the same body), and that answer goes out again."""

    def __init__(self, status: int, answer: dict):
        super().__init__(f"replayed: {status}")
        self.status, self.answer = status, answer


def error_body(type_: str, code: str, message: str, param: str | None = None) -> dict:
    return {"error": {"type": type_, "code": code, "message": message, "param": param}}


class InvalidRequest(ApiError):
    pass


class IdempotencyKeyRequired(ApiError):
    code = "idempotency_key_required"
    default_message = "This request moves money and needs an Idempotency-Key header."


class UnsupportedCurrency(ApiError):
    code = "unsupported_currency"
    default_message = "Only USD is supported."


class Unauthenticated(ApiError):
    status = 401
    type = "authentication_error"
    code = "unauthenticated"
    default_message = "A valid bearer token is required."


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    default_message = "The handle or password is wrong."


class InvalidSignature(Unauthenticated):
    code = "invalid_signature"
    default_message = "The Flock-Signature header is missing, wrong or too old."


class Forbidden(ApiError):
    status = 403
    type = "permission_error"
    code = "forbidden"
    default_message = "You may not do this."


class VerificationRequired(Forbidden):
    code = "verification_required"
    default_message = "Money needs a verified account."


class AccountFrozen(Forbidden):
    code = "account_frozen"
    default_message = "The account is frozen."


class StepUpRequired(Forbidden):
    """With 2FA on, a risky request needs a fresh one-time code in `Flock-OTP`."""
    code = "step_up_required"
    default_message = "This needs a fresh one-time code from your authenticator in the Flock-OTP header."


class NotFound(ApiError):
    status = 404
    type = "not_found_error"
    code = "not_found"
    default_message = "Not found."


class Conflict(ApiError):
    status = 409
    type = "conflict_error"
    code = "already_exists"
    default_message = "It already exists."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was used with another request."


class HandleTaken(Conflict):
    code = "handle_taken"
    default_message = "That handle is taken."


class InvalidState(Conflict):
    code = "invalid_state"
    default_message = "It is not in a state that allows this."


class DuplicateDeposit(Conflict):
    code = "duplicate_deposit"
    default_message = "This check was deposited before."


class Unprocessable(ApiError):
    status = 422
    type = "business_error"


class InsufficientFunds(Unprocessable):
    code = "insufficient_funds"
    default_message = "Not enough money to spend."


class LimitExceeded(Unprocessable):
    code = "limit_exceeded"
    default_message = "This exceeds your limit."


class SelfTransfer(Unprocessable):
    code = "self_transfer"
    default_message = "You cannot send money to yourself."


class CardDeclined(Unprocessable):
    code = "card_declined"
    default_message = "The card was declined."


class NotEligible(Unprocessable):
    code = "not_eligible"
    default_message = "The account is not eligible."


class RateLimited(ApiError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limited"
    default_message = "Too many attempts; try again later."

    def __init__(self, retry_after_s: int, message: str | None = None):
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after_s)))})


class InternalError(ApiError):
    status = 500
    type = "api_error"
    code = "internal_error"
    default_message = "Something went wrong on our side."


class Unavailable(ApiError):
    status = 503
    type = "api_error"
    code = "unavailable"
    default_message = "The service is busy; retry with the same Idempotency-Key."

    def __init__(self, message: str | None = None):
        super().__init__(message, headers={"Retry-After": "1"})
