"""Events sent by the card and check networks, each answered once.

Item kinds (balances table, pk / sk):
  NETEVT#<network>#<event_id>   NETEVT   the first answer to that event: status, body, request hash

In the balances table because the record is written in the same transaction
as the money the event moves (a network's retry must find the answer, never
cause a second movement).
"""
import json

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.db.base import Item, meta

EVENT_SORT_KEY = "NETEVT"


def network_event_key(network: str, event_id: str) -> tuple[str, str]:
    return f"NETEVT#{network}#{event_id}", EVENT_SORT_KEY


class NetworkEventItem(Item):
    """`answer` is the JSON text of the body first answered; `expires_at`
    keeps the record well past any network's retry window (TTL)."""
    Meta = meta("balances")
    network = UnicodeAttribute()
    event_id = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    status = NumberAttribute()
    answer = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()

    @classmethod
    def ref(cls, network: str, event_id: str) -> "NetworkEventItem":
        return cls(*network_event_key(network, event_id))

    @classmethod
    def find(cls, network: str, event_id: str) -> "NetworkEventItem | None":
        try:
            return cls.get(*network_event_key(network, event_id), consistent_read=True)
        except cls.DoesNotExist:
            return None

    def answered(self) -> tuple[int, dict]:
        return int(self.status), json.loads(self.answer)
