"""Payments priced in a currency, paid from a pocket of the payer's: creator
money (tips, unlocks, subscriptions), payments in direct messages and
payment requests.

The rule (API.md, Money in other currencies): the price's currency is what
the payee receives, into their pocket of it (opened on receipt). The payer
pays from their pocket of that currency if they hold one; otherwise, or
when they name `pay_currency`, from that pocket, at a price taken in the
same request and converted in the same transaction as the payment through
the `fx_<CCY>` system accounts — `fx.converted_legs`, the legs a
cross-currency transfer is made of. The payer pays the least amount whose
conversion buys the whole price (`fx.price` with `buy_cents`: rounded up,
against the payer as every fx rounding is); a platform fee is taken from
the price, in its currency, rounded down like every platform fee.
"""
import functools
from dataclasses import dataclass, replace

from chalicelib import errors
from chalicelib.config import HOME_CURRENCY
from chalicelib.finance import fx, ledger, pockets, transfers
from chalicelib.finance.accounts import customer_account_id
from chalicelib.finance.fx_rates import decimal_text
from chalicelib.finance.money import SUPPORTED_CURRENCIES, Money


@dataclass(frozen=True)
class Payer:
    """Who pays, and from which pocket.

    Attributes:
      user_id, handle: the person.
      currency: the pocket paid from (`pay_currency_for`).
      principal: the caller, whose authorisation (session, step-up) rides in
        the transaction and whose daily `sent` limit counts the payment; None
        for a charge the person agreed to earlier (a subscription renewal).
    """
    user_id: str
    handle: str
    currency: str
    principal: object | None = None


@dataclass(frozen=True)
class Charge:
    """What a price costs the payer, priced once per request: `paid` leaves
    their pocket; `conversion` is the fx price that buys the price (None:
    paid in its own currency). A caller that must show the payment before
    it moves (a DM's stored payment) takes it first and hands it to `pay`,
    so what is shown is what moves."""
    paid: Money
    conversion: fx.Price | None = None

    def shown(self, price: Money) -> dict:
        """The fields a transfer shows of it (transfers.public_transfer):
        `amount`/`currency` paid, and `delivered`/`rate` if it converted."""
        body = {"amount": self.paid.amount_cents, "currency": self.paid.currency}
        if self.conversion is not None:
            body |= {"delivered": {"amount": price.amount_cents, "currency": price.currency},
                     "rate": decimal_text(self.conversion.rate)}
        return body


def named(pay_currency: str | None) -> dict:
    """The pocket a payer named, as part of the request's fingerprint
    (absent when not named, so older keys replay the same)."""
    return {} if pay_currency is None else {"pay_currency": pay_currency}


def pay_currency_for(user_id: str, price_currency: str, named: str | None) -> str:
    """The pocket a price is paid from: the one named, else the price's own
    currency if the person holds that pocket, else the home currency. One
    read, only for a price in another currency than the home one."""
    if named is not None:
        if named not in SUPPORTED_CURRENCIES:
            raise errors.UnsupportedCurrency(param="pay_currency")
        return named
    if price_currency == HOME_CURRENCY or pockets.holds(user_id, price_currency):
        return price_currency
    return HOME_CURRENCY


def caller_payer(principal, price_currency: str, pay_currency: str | None) -> Payer:
    """The caller paying a price, from the pocket the rule picks."""
    return Payer(principal.user_id, principal.handle,
                 pay_currency_for(principal.user_id, price_currency, pay_currency), principal)


def charge_for(payer: Payer, money: Money) -> Charge:
    """The price of `money` from the payer's pocket: itself, or the least
    amount of the pocket's currency whose conversion buys it (no rate for
    the pair: 409 invalid_state, before anything is written)."""
    if payer.currency == money.currency:
        return Charge(money)
    p = fx.price(payer.currency, money.currency, buy_cents=money.amount_cents, param="amount", buy_param="amount")
    return Charge(Money(p.sell_cents, payer.currency), p)


def replayed_or_raise(refused: errors.InvalidState, transfer_id: str, request: str):
    """For a price that cannot be taken now (its rate is gone from the rates
    in force, e.g. an operator's currency the ECB feed does not quote): the
    success already stored under this key, so a retry is answered as the
    first request was, not 409; none stored, `refused` is raised."""
    stored = transfers.stored_success(transfer_id, request)
    if stored is None:
        raise refused
    return stored


def _payer_party(payer: Payer) -> ledger.Party:
    party = pockets.pocket_party(payer.user_id, payer.handle, payer.currency, own=True)
    return replace(party, gate=fx.payer_gate(payer.principal)) if payer.principal is not None else party


def _payee_pocket(payee: ledger.Party, currency: str) -> tuple[ledger.Party, tuple]:
    """The payee's pocket of `currency`; the home one is `payee` itself (its
    credit shards known), another carries the main account's status check."""
    if currency == HOME_CURRENCY:
        return payee, ()
    return pockets.pocket_party(payee.user_id, payee.display, currency), (pockets.receiver_is_active(payee.user_id),)


def _home(payer: Payer, payee: ledger.Party, money: Money, base: ledger.Movement,
          platform_fee_cents: int) -> ledger.Posted:
    """A home-currency price from the home account: the plain two-party
    movement (no pocket, no rate read), as it was before pockets."""
    principal = payer.principal
    if principal is not None:
        debit, limits = transfers.caller_party(principal), (transfers.sent_limit(principal),)
    else:
        debit, limits = ledger.Party(customer_account_id(payer.user_id), display=payer.handle,
                                     user_id=payer.user_id, inactive_refusal=errors.AccountFrozen), ()
    return ledger.transfer(replace(base, debit=debit, credit=payee, money=money, limits=base.limits + limits,
                                   fee=transfers.system_party("fees") if platform_fee_cents else None,
                                   fee_cents=platform_fee_cents))


def pay(payer: Payer, payee: ledger.Party, money: Money, base: ledger.Movement,
        platform_fee_cents: int = 0, charge: Charge | None = None) -> ledger.Posted:
    """Move `money` (the price: what the payee's side receives, fee
    included) from the payer's pocket to the payee's pocket of its
    currency; `base` names the movement (id, kind, request, note, extras);
    `charge`: the price already taken (`charge_for`), else taken here.
    One transaction; a missing payee pocket is opened and the movement sent
    once more (pockets.into_pockets)."""
    if payer.currency == money.currency == HOME_CURRENCY:
        return _home(payer, payee, money, base, platform_fee_cents)
    try:
        charge = charge or charge_for(payer, money)
        limits = (fx.sent_limit(payer.principal, charge.paid),) if payer.principal is not None else ()
    except errors.InvalidState as refused:
        return ledger.Posted(replayed_or_raise(refused, base.transfer_id, base.request_hash), replayed=True)
    into, checks = _payee_pocket(payee, money.currency)
    fee_party = pockets.system_party_in("fees", money.currency) if platform_fee_cents else None
    source = _payer_party(payer)
    base = replace(base, extras=base.extras + checks)
    if charge.conversion is None:
        movement = replace(base, debit=source, credit=into, money=money, fee=fee_party, fee_cents=platform_fee_cents)
    else:
        p = charge.conversion
        movement = replace(base, rate=decimal_text(p.rate), legs=fx.converted_legs(
            source, into, payer.currency, p, money, fee_party, platform_fee_cents))
    movement = replace(movement, limits=movement.limits + limits)
    if movement.legs and payer.principal is not None:
        move = functools.partial(fx.send_legs, payer.principal, movement, payee)
    else:
        move = functools.partial(ledger.transfer, movement)
    return pockets.into_pockets(move, receiving=[(payee.user_id, money.currency)],
                                own=[(payer.user_id, payer.currency)])
