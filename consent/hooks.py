"""What other apps do when something happens to a customer's consent.

`consent` knows nothing of offers or the API. An app that must act when consent changes
registers a callable on one of the hooks below (in its AppConfig.ready); `consent` calls
every registered callable inside the transaction that records the change, so their
effects commit or roll back with it. Each callable returns a dict of counts to tell the
person acting (e.g. {"offers_retracted": 2}), or nothing.

The hooks, and the arguments each is called with, are the explicit list `HOOKS` at the end.
"""

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

HookFunction = Callable[..., Mapping[str, int] | None]


class Hook:
    """A named moment, and the callables registered for it, in registration order."""

    def __init__(self, name: str, called_with: str):
        self.name = name
        self.called_with = called_with
        self.callables: list[HookFunction] = []

    def register(self, function: HookFunction) -> HookFunction:
        if function not in self.callables:
            self.callables.append(function)
        return function

    def __call__(self, **kwargs: Any) -> Counter[str]:
        effects: Counter[str] = Counter()
        for function in self.callables:
            effects.update(function(**kwargs) or {})
        return effects

    def __repr__(self) -> str:
        return f"<Hook {self.name}({self.called_with})>"


# A withdrawal: e.g. offers retracts the open offers that relied on the consent.
CONSENT_ENDED = Hook("consent_ended", "customer_id, purpose_code, event, at")
# A privacy officer's material new version takes effect: earlier consents stop counting.
MATERIAL_CHANGE = Hook("material_change", "purpose_code, version, at")
# Before publishing a material version: what it *would* end (reads only).
MATERIAL_CHANGE_PREVIEW = Hook("material_change_preview", "purpose_code, at")
# Every event the ledger records, after the state and the hooks above: an app that
# mirrors the ledger (the API's change feed) commits or rolls back with it.
EVENT_RECORDED = Hook("event_recorded", "event, at")
# A customer left the bank (`close_customer`), after every consent was withdrawn: offers
# retracts what is still open, the API revokes the customer's tokens.
CUSTOMER_CLOSED = Hook("customer_closed", "customer_id, at")
# Erasure on request (GDPR Art. 17), with the `erasure_requested` event: each app erases
# what consent-based processing produced.
ERASURE_REQUESTED = Hook("erasure_requested", "customer_id, event, at")
# For the erasure page: what each app *would* erase (reads only).
ERASURE_PREVIEW = Hook("erasure_preview", "customer_id")
# Retention removed a customer's whole consent chain (a tombstone stands for it): apps
# that copied the ledger remove their copies.
PROOF_REMOVED = Hook("proof_removed", "customer_id, at")

HOOKS = (
    CONSENT_ENDED,
    MATERIAL_CHANGE,
    MATERIAL_CHANGE_PREVIEW,
    EVENT_RECORDED,
    CUSTOMER_CLOSED,
    ERASURE_REQUESTED,
    ERASURE_PREVIEW,
    PROOF_REMOVED,
)
