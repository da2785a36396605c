"""The TOTP second factor (RFC 6238, with pyotp) and its recovery codes.

- Enrol: a 160-bit secret, sealed with envelope encryption
  (chalicelib/crypto/envelope.py, bound to the person) before it is stored;
  the clear secret is shown once, with its otpauth:// URI, and is not active.
- Confirm with a code: the factor turns on and 10 recovery codes are shown
  once; only their keyed hashes are kept.
- Codes: 6 digits, 30 s steps, the step before and after accepted too. The
  item keeps the last step whose code was accepted, and a code is accepted
  only with a conditional update to a later step: each step's code works
  once, the confirming code included, even under concurrent use.
- A recovery code works once (a conditional delete from the set of hashes).

Time is the real clock's. The `CodeUse` records are the conditional updates
that use a code, so a caller can put one in its own transaction (a money
movement) and the code is spent only if that transaction commits.
"""
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
from pynamodb.exceptions import UpdateError

from chalicelib import clock, errors, lazy
from chalicelib.crypto import envelope
from chalicelib.db.users import TotpItem
from chalicelib.identity import keys

STEP_S = 30
DIGITS = 6
STEPS_ACCEPTED = (-1, 0, 1)
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
RECOVERY_CHARS = 10  # ~49 bits each
ISSUER = "Flock"

records = lazy.module("chalicelib.records.identity")


@dataclass(frozen=True)
class CodeUse:
    """A conditional update of the TOTP item that spends one code.

    Attributes:
      model: the item to update; actions, condition: the update.
      kind: "totp" or "recovery_code".
    """
    model: TotpItem
    actions: tuple
    condition: object
    kind: str


def _context(user_id: str) -> dict:
    return {"purpose": "totp-secret", "user_id": user_id}


def _step_now() -> int:
    return int(clock.real_now().timestamp()) // STEP_S


def enrol(user_id: str, handle: str) -> "records.TotpEnrolment":
    """A new, inactive secret (replacing an unconfirmed one); 409 if 2FA is on."""
    existing = TotpItem.find(user_id)
    if existing is not None and existing.status == "active":
        raise errors.Conflict("Two-factor authentication is already on.")
    secret = pyotp.random_base32(32)
    item = TotpItem.ref(user_id)
    item.status, item.secret, item.last_step = "pending", envelope.seal(secret.encode(), _context(user_id)), 0
    item.created_at = clock.iso(clock.real_now())
    item.save(condition=TotpItem.pk.does_not_exist() | (TotpItem.status == "pending"))
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).provisioning_uri(name=handle, issuer_name=ISSUER)
    return records.TotpEnrolment(secret=secret, otpauth_uri=uri)


def find(user_id: str) -> TotpItem | None:
    return TotpItem.find(user_id)


def matching_step(item: TotpItem, user_id: str, code) -> int | None:
    """The step (±1 around now) whose code `code` is, or None."""
    if not (isinstance(code, str) and len(code) == DIGITS and code.isdigit()):
        return None
    secret = envelope.open_sealed(item.secret, _context(user_id)).decode()
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    now = _step_now()
    found = None
    for delta in STEPS_ACCEPTED:  # compare all three, in constant time each
        if hmac.compare_digest(totp.at((now + delta) * STEP_S), code):
            found = now + delta
    return found


def totp_use(item: TotpItem, user_id: str, code, status: str = "active") -> CodeUse | None:
    """The update spending `code` if it is right for now, else None."""
    if item is None or item.status != status:
        return None
    step = matching_step(item, user_id, code)
    if step is None or step <= int(item.last_step):
        return None
    return CodeUse(TotpItem.ref(user_id), (TotpItem.last_step.set(step),),
                   (TotpItem.status == status) & (TotpItem.last_step < step), "totp")


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def recovery_hash(user_id: str, code: str) -> str:
    """Keyed: a copy of the table alone does not let anyone try codes offline."""
    message = f"{user_id}:{_normalise_recovery(code)}".encode()
    return hmac.new(keys.derived_key("recovery-code"), message, hashlib.sha256).hexdigest()


def recovery_use(item: TotpItem, user_id: str, code) -> CodeUse | None:
    if item is None or item.status != "active" or not isinstance(code, str) or len(code) > 32:
        return None
    digest = recovery_hash(user_id, code)
    if digest not in (item.recovery_hashes or ()):
        return None
    return CodeUse(TotpItem.ref(user_id), (TotpItem.recovery_hashes.delete({digest}),),
                   (TotpItem.status == "active") & TotpItem.recovery_hashes.contains(digest), "recovery_code")


def spend(use: CodeUse | None) -> bool:
    """Spend the code on its own; False if it was not right or already used."""
    if use is None:
        return False
    try:
        use.model.update(actions=list(use.actions), condition=use.condition)
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CHARS))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes
