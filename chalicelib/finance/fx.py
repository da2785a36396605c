"""Money in other currencies: quotes, conversions between one's pockets,
cross-currency transfers, deposits and payouts of a pocket.

Books per currency: every movement's legs sum to zero in each currency on
its own. A conversion is one movement: the sold amount leaves the sell
pocket for `fx_<SELL>` (the fee for `fees` of that currency), and the
bought amount leaves `fx_<BUY>` for the buy pocket; what Flock holds of each
currency is the `fx_` accounts' position (reconcile reports it).

Pricing (API.md): `rate` = mid-market x (1 - spread), buy units per sell
unit; `fee` = sell_amount x fee_bps, in the sell currency; `buy_amount` =
(sell_amount - fee) x rate, in buy minor units. Every rounding goes the way
that keeps the books whole — never toward the customer — so a round trip
never creates money. The mode is named at each step.
"""
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal, localcontext

from chalicelib import clock, errors, ids, lazy
from chalicelib.config import MINOR_UNITS_MAX, settings
from chalicelib.db.balances import TransferItem
from chalicelib.db.fx import QuoteItem, quote_key
from chalicelib.finance import fx_rates, iban, ledger, pockets, transfers
from chalicelib.finance.fx_rates import decimal_text
from chalicelib.finance.money import SUPPORTED_CURRENCIES, Money, exponent

records = lazy.module("chalicelib.records.fx")
money_records = lazy.module("chalicelib.records.money")

BPS = 10_000
RATE_QUANTUM = Decimal("1e-10")  # the quoted rate's last digit
QUOTE_KEEP_S = 8 * 86400  # a used quote outlives the 7 days a replay is answered
QUOTE_ID_MAX = 64
SEARCH_STEPS_MAX = 64  # bisection over 1..10^12 needs 40


@dataclass(frozen=True)
class Price:
    """Attributes:
      rate: buy units per sell unit (major units), spread applied, quantized.
      sell_cents, fee_cents: in sell minor units; the fee is part of the sold.
      buy_cents: in buy minor units."""
    rate: Decimal
    mid: Decimal
    sell_cents: int
    fee_cents: int
    buy_cents: int


def customer_rate(sell: str, buy: str) -> tuple[Decimal, Decimal]:
    """(rate, mid). The spread is taken off the mid rate and the result
    quantized ROUND_DOWN: the customer's rate is never above mid x (1 - spread)."""
    mid = fx_rates.current().mid(sell, buy)
    with localcontext() as ctx:
        ctx.prec = fx_rates.PRECISION_DIGITS
        rate = (mid * (BPS - settings().fx_spread_bps) / BPS).quantize(RATE_QUANTUM, rounding=ROUND_DOWN)
    if rate <= 0:
        raise errors.InvalidState(f"{sell} to {buy} cannot be quoted.")
    return rate, mid


def fee_for(sell_cents: int) -> int:
    """fee_bps of the amount sold, ROUND_UP to a whole minor unit (integer
    ceiling): a fraction of a unit is never given away."""
    return -(-sell_cents * settings().fx_fee_bps // BPS)


def bought(sell: str, buy: str, rate: Decimal, sell_cents: int) -> int:
    """(sell - fee) x rate in buy minor units, ROUND_DOWN (floor): the
    fraction of a buy unit stays with the books."""
    with localcontext() as ctx:
        ctx.prec = fx_rates.PRECISION_DIGITS
        scale = Decimal(10) ** (exponent(buy) - exponent(sell))
        return int((Decimal(sell_cents - fee_for(sell_cents)) * rate * scale).to_integral_value(ROUND_DOWN))


def price(sell: str, buy: str, sell_cents: int | None = None, buy_cents: int | None = None,
          param: str = "sell_amount", buy_param: str = "buy_amount") -> Price:
    """The price of selling `sell_cents`, or of buying at least `buy_cents`
    (the least sell amount that buys it: bisection, exact, since what is
    bought never falls as what is sold grows)."""
    if sell not in SUPPORTED_CURRENCIES:
        raise errors.UnsupportedCurrency(param="sell_currency")
    if buy not in SUPPORTED_CURRENCIES:
        raise errors.UnsupportedCurrency(param="buy_currency")
    if sell == buy:
        raise errors.InvalidRequest("Sell and buy currencies differ.", param="buy_currency")
    rate, mid = customer_rate(sell, buy)
    if sell_cents is None:
        low, high = 1, MINOR_UNITS_MAX
        if bought(sell, buy, rate, high) < buy_cents:
            raise errors.InvalidRequest("That amount is too large to quote.", param=buy_param)
        for _ in range(SEARCH_STEPS_MAX):
            if low >= high:
                break
            middle = (low + high) // 2
            low, high = (middle + 1, high) if bought(sell, buy, rate, middle) < buy_cents else (low, middle)
        sell_cents = low
    got = bought(sell, buy, rate, sell_cents)
    if got <= 0:
        raise errors.InvalidRequest("That amount is too small to convert.", param=param)
    if got > MINOR_UNITS_MAX:  # an amount is at most 10^12 minor units in every currency
        raise errors.InvalidRequest("That amount is too large to convert.", param=param)
    return Price(rate, mid, sell_cents, fee_for(sell_cents), got)


def public_quote(item: QuoteItem) -> "records.Quote":
    return records.Quote(id=item.id, sell_currency=item.sell_currency, buy_currency=item.buy_currency,
                         rate=item.rate, mid_rate=item.mid_rate, sell_amount=int(item.sell_amount),
                         buy_amount=int(item.buy_amount), fee=int(item.fee), expires_at=item.expires_at_iso,
                         status=item.status)


def create_quote(principal, sell: str, buy: str, sell_cents: int | None, buy_cents: int | None) -> "records.Quote":
    """A quote of this person's, alive `fx_quote_ttl_s` of real time."""
    transfers.require_money_caller(principal)
    if (sell_cents is None) == (buy_cents is None):
        raise errors.InvalidRequest("Give exactly one of sell_amount and buy_amount.", param="sell_amount")
    p = price(sell, buy, sell_cents, buy_cents)
    now = clock.real_now()
    expires = now + timedelta(seconds=settings().fx_quote_ttl_s)
    valid_until_s = int(expires.timestamp())
    quote_id = ids.new_id("fxq")
    with localcontext() as ctx:
        ctx.prec = fx_rates.PRECISION_DIGITS
        mid_shown = p.mid.quantize(RATE_QUANTUM, rounding=ROUND_DOWN)  # shown only; the rate is what prices
    item = QuoteItem(*quote_key(quote_id), id=quote_id, user_id=principal.user_id, sell_currency=sell,
                     buy_currency=buy, rate=decimal_text(p.rate), mid_rate=decimal_text(mid_shown),
                     sell_amount=p.sell_cents, buy_amount=p.buy_cents, fee=p.fee_cents, created_at=clock.iso(now),
                     expires_at_iso=clock.iso(expires), valid_until_s=valid_until_s,
                     expires_at=valid_until_s + QUOTE_KEEP_S)
    item.save(condition=QuoteItem.pk.does_not_exist())
    return public_quote(item)


def payer_gate(principal):
    """The caller's authorisation (session live, step-up) with the risk
    judged on the amount's home-currency worth."""
    def gate(m: ledger.Movement) -> tuple:
        worth = Money(min(fx_rates.home_equivalent(m.money), MINOR_UNITS_MAX))
        return transfers.authorize(principal, replace(m, money=worth))
    return gate


def _own(principal, currency: str) -> ledger.Party:
    return replace(pockets.pocket_party(principal.user_id, principal.handle, currency, own=True),
                   gate=payer_gate(principal))


def _posted(posted: ledger.Posted) -> tuple["money_records.Transfer", bool]:
    return transfers.public_transfer(posted.transfer), posted.replayed


def _fx_legs(payer: str, sell: str, buy: str, net_cents: int, buy_cents: int, receiver: ledger.Party,
             shown: str | None = None) -> tuple:
    """The conversion inside a movement: the sold amount net of the fee
    into fx_<SELL>, the bought amount out of fx_<BUY> to `receiver`, whose
    entry shows `shown` (the payer of a transfer; None: fx_<BUY>)."""
    fx_sell, fx_buy = pockets.system_party_in("fx", sell), pockets.system_party_in("fx", buy)
    return (ledger.Leg(fx_sell, Money(net_cents, sell), counterparty=payer),
            ledger.Leg(fx_buy, Money(-buy_cents, buy), counterparty=receiver.display),
            ledger.Leg(receiver, Money(buy_cents, buy), counterparty=shown or fx_buy.display))


def converted_legs(payer: ledger.Party, payee: ledger.Party, sell: str, p: Price, delivered: Money,
                   platform_fee: ledger.Party | None = None, platform_fee_cents: int = 0) -> tuple:
    """The legs of a payment that converts on its way, in the order the
    ledger's headline reads (payer out, payee in): `p.sell_cents` of `sell`
    out of the payer's pocket, `delivered` (at most what `p` buys: the
    fraction of a unit the payer's rounded-up amount buys beyond it stays
    with fx_<BUY>) to the payee less `platform_fee_cents` taken from it for
    `platform_fee`, the conversion through both fx_ accounts, and the fx
    fee to `fees` of `sell`."""
    if not 0 < delivered.amount_cents <= p.buy_cents or not 0 <= platform_fee_cents <= delivered.amount_cents:
        raise ValueError("a payment delivers at most what its conversion buys, and its fee at most that")
    fx_sell, fx_buy, into = _fx_legs(payer.display, sell, delivered.currency, p.sell_cents - p.fee_cents,
                                     delivered.amount_cents, payee, shown=payer.display)
    into = replace(into, money=Money(delivered.amount_cents - platform_fee_cents, delivered.currency),
                   fee_cents=platform_fee_cents or None)
    legs = (ledger.Leg(payer, Money(-p.sell_cents, sell), counterparty=payee.display), into)
    if platform_fee_cents:
        legs += (ledger.Leg(platform_fee, Money(platform_fee_cents, delivered.currency), counterparty=payer.display),)
    legs += (fx_sell, fx_buy)
    if p.fee_cents:
        legs += (ledger.Leg(pockets.system_party_in("fees", sell), Money(p.fee_cents, sell), kind="fee",
                            counterparty=payer.display),)
    return legs


def convert(principal, quote_id: str, idempotency_key: str) -> tuple["money_records.Transfer", bool]:
    """Convert between the caller's pockets at a live quote, once: the quote
    is marked used in the conversion's own transaction, on condition that it
    is open and alive (else 409 invalid_state). The buy pocket opens on first use."""
    transfers.require_money_caller(principal)
    quote = QuoteItem.find(quote_id) if quote_id.startswith("fxq_") and len(quote_id) <= QUOTE_ID_MAX else None
    if quote is None or quote.user_id != principal.user_id:
        raise errors.NotFound("No such quote.")
    sell, buy = quote.sell_currency, quote.buy_currency
    sell_cents, fee_cents, buy_cents = int(quote.sell_amount), int(quote.fee), int(quote.buy_amount)
    transfer_id = transfers.transfer_id_for(principal.user_id, idempotency_key)
    alive = QuoteItem.valid_until_s >= int(clock.real_now().timestamp())  # real time: a test clock cannot revive it
    use = ledger.Extra("update", QuoteItem.ref(quote.id),
                       actions=(QuoteItem.status.set("used"), QuoteItem.transfer_id.set(transfer_id)),
                       condition=(QuoteItem.status == "open") & alive,
                       refusal=errors.InvalidState("The quote has expired or was used."))
    receiver = pockets.pocket_party(principal.user_id, principal.handle, buy)
    fx_sell, fx_buy, into = _fx_legs(principal.handle, sell, buy, sell_cents - fee_cents, buy_cents, receiver)
    # The sale is the two-party form (headline and gate), its fee the ledger's fee; the purchase rides as legs.
    movement = ledger.Movement(
        transfer_id=transfer_id, kind="conversion", debit=_own(principal, sell), credit=fx_sell.party,
        money=Money(sell_cents, sell), fee=pockets.system_party_in("fees", sell) if fee_cents else None,
        fee_cents=fee_cents, legs=(fx_buy, into), extras=(use,), request_hash=transfers.request_hash("conversion", quote_id=quote.id),
        note=f"{sell} to {buy} at {quote.rate}")
    return _posted(pockets.into_pockets(lambda: ledger.transfer(movement), receiving=[(principal.user_id, buy)],
                                        own=[(principal.user_id, sell)]))


def sent_limit(principal, money: Money) -> ledger.Limit:
    """Money sent counts in home-currency terms (at today's mid rate)."""
    cap = settings().tier_limits("verified").sent_per_day_max_cents
    return ledger.Limit(principal.account_id, "sent", cap, amount_cents=fx_rates.home_equivalent(money))


def _gated(principal, m: ledger.Movement, payee: ledger.Party) -> ledger.Movement:
    """A movement of legs alone has no debit for the ledger to gate: the
    caller's authorisation is added here, judged as a payment to `payee`."""
    worth = Money(min(fx_rates.home_equivalent(-m.legs[0].money), MINOR_UNITS_MAX))
    probe = ledger.Movement(m.transfer_id, m.kind, debit=m.legs[0].party, credit=payee, money=worth,
                            request_hash=m.request_hash)
    return replace(m, extras=m.extras + tuple(transfers.authorize(principal, probe)))


def send(principal, to_handle: str, money: Money, deliver: str, note: str,
         idempotency_key: str) -> tuple["money_records.Transfer", bool]:
    """P2P from the caller's `money.currency` pocket; the receiver gets
    `deliver` (their pocket of it opens on first receipt), converted at a
    quote taken now, in the same transaction. Two reads (token, handle) and
    one transaction, as a home-currency transfer."""
    transfers.require_money_caller(principal)
    if deliver not in SUPPORTED_CURRENCIES:
        raise errors.UnsupportedCurrency(param="deliver_currency")
    claim = transfers.receiver_party(to_handle)
    if claim.user_id == principal.user_id:
        raise errors.SelfTransfer()
    sender = pockets.pocket_party(principal.user_id, principal.handle, money.currency, own=True)
    receiver = pockets.pocket_party(claim.user_id, claim.display, deliver)
    extras = () if receiver.account_id == claim.account_id else (pockets.receiver_is_active(claim.user_id),)
    request = transfers.request_hash("p2p", to=to_handle.lower(), amount=money.amount_cents, currency=money.currency,
                                     note=note, deliver_currency=deliver)
    transfer_id = transfers.transfer_id_for(principal.user_id, idempotency_key)

    def move() -> ledger.Posted:
        base = ledger.Movement(transfer_id=transfer_id, kind="p2p", note=note, request_hash=request,
                               limits=(sent_limit(principal, money),), extras=extras)
        if deliver == money.currency:
            movement = replace(base, debit=replace(sender, gate=payer_gate(principal)), credit=receiver, money=money)
            return ledger.transfer(movement)
        p = price(money.currency, deliver, sell_cents=money.amount_cents, param="amount")
        movement = replace(base, legs=converted_legs(sender, receiver, money.currency, p, Money(p.buy_cents, deliver)),
                           note=note, rate=decimal_text(p.rate))
        return send_legs(principal, movement, claim)
    return _posted(pockets.into_pockets(lambda: replayed_when_unpriced(transfer_id, request, move),
                                        receiving=[(claim.user_id, deliver)],
                                        own=[(principal.user_id, money.currency)]))


def replayed_when_unpriced(transfer_id: str, request: str, move) -> ledger.Posted:
    """`move()`; refused for want of a rate (its currency has left the rates
    in force since the first request, as an operator's currency the ECB feed
    does not quote does), a retry of a key that succeeded gets the stored
    success, not 409: a client retrying after a timeout must learn it was
    charged. No success stored, the refusal stands and nothing moved."""
    try:
        return move()
    except errors.InvalidState:
        stored = transfers.stored_success(transfer_id, request)
        if stored is None:
            raise
        return ledger.Posted(stored, replayed=True)


def send_legs(principal, movement: ledger.Movement, payee: ledger.Party) -> ledger.Posted:
    try:
        gated = _gated(principal, movement, payee)
    except errors.StepUpRequired:
        stored = TransferItem.find(movement.transfer_id)  # a retry of a success needs no new code
        if stored is None:
            raise
        if stored.request_hash != movement.request_hash:
            raise errors.IdempotencyKeyReused() from None
        return ledger.Posted(stored, replayed=True)
    return ledger.transfer(gated)


def deposit(principal, money: Money, idempotency_key: str) -> tuple["money_records.Transfer", bool]:
    """From the linked bank into the caller's pocket of that currency
    (opened on first receipt), through `external` of that currency; the
    deposit limits count its home-currency worth."""
    transfers.require_money_caller(principal)
    limits = settings().tier_limits("verified")
    transfer_id = transfers.transfer_id_for(principal.user_id, idempotency_key)
    request = transfers.request_hash("deposit", amount=money.amount_cents, currency=money.currency)

    def move() -> ledger.Posted:
        worth = fx_rates.home_equivalent(money)
        daily_cap = limits.deposits_per_day_max_cents if worth <= limits.deposit_max_cents else 0
        return ledger.transfer(ledger.Movement(
            transfer_id=transfer_id, kind="deposit", debit=pockets.system_party_in("external", money.currency),
            credit=pockets.pocket_party(principal.user_id, principal.handle, money.currency), money=money,
            request_hash=request, limits=(ledger.Limit(principal.account_id, "deposited", daily_cap, amount_cents=worth),)))
    return _posted(pockets.into_pockets(lambda: replayed_when_unpriced(transfer_id, request, move),
                                        receiving=[(principal.user_id, money.currency)]))


def withdraw(principal, money: Money, idempotency_key: str,
             iban_text: str | None) -> tuple["money_records.Transfer", bool]:
    """To the linked bank, or abroad to `iban_text` (validated), from the
    pocket of that currency, through `external` of that currency."""
    transfers.require_money_caller(principal)
    account = iban.validate(iban_text) if iban_text is not None else None
    movement = ledger.Movement(
        transfer_id=transfers.transfer_id_for(principal.user_id, idempotency_key), kind="withdrawal",
        debit=_own(principal, money.currency), credit=pockets.system_party_in("external", money.currency),
        money=money, note=f"payout to {iban.masked(account)}" if account else "",
        request_hash=transfers.request_hash("withdrawal", amount=money.amount_cents, currency=money.currency,
                                            iban=account))
    return _posted(pockets.into_pockets(lambda: ledger.transfer(movement), receiving=[],
                                        own=[(principal.user_id, money.currency)]))
