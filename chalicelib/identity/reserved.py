"""Handles nobody may sign up with: the names the bank itself speaks with.

A payment from a system account shows its name as the counterparty
(`external`, `fees`, ...), so a person called @external could pass for a
bank deposit. Those names, and words a person would take for Flock's own
staff, are reserved whatever their case, underscores or digits
(`Card_Settlement`, `admin_1`); so is any handle containing "flock". Only
signup checks: operators are created by the bootstrap and the CLI
(`create_user`), which may use them (the local operator is `admin`).

Standard library only: identity is a leaf, and finance checks at import
that each of its system accounts is reserved here.
"""
import re

SYSTEM_NAMES = frozenset({
    "external", "fees", "interest_expense", "interest_income", "loans_receivable", "card_settlement",
    "check_clearing", "rewards", "loan_losses", "fx", "system", "treasury", "settlement", "clearing", "ledger", "reserve",
})
STAFF_WORDS = frozenset({
    "admin", "administrator", "root", "flock", "support", "security", "bank", "banking", "official", "staff",
    "operator", "operations", "ops", "help", "helpdesk", "service", "customerservice", "moderator", "compliance",
    "fraud", "billing", "payments", "payment", "verify", "verification", "kyc", "legal", "abuse", "noreply",
})
BRAND = "flock"
_IGNORED = re.compile(r"[_0-9]+")


def _key(handle: str) -> str:
    """What a reader sees in a handle: lower case, underscores and digits dropped."""
    return _IGNORED.sub("", handle.lower())


RESERVED_KEYS = frozenset(_key(name) for name in SYSTEM_NAMES | STAFF_WORDS)


def is_reserved(handle: str) -> bool:
    key = _key(handle)
    return key in RESERVED_KEYS or BRAND in key or handle.lower().startswith(("fx_", "sys_", "acct_"))
