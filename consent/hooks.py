"""What other apps do when a customer's consent ends.

`consent` knows nothing of offers. An app that relies on consent registers a callable
here (in its AppConfig.ready), and `record_choice` calls every one of them inside the
transaction that records the withdrawal, so their effects commit or roll back with it.

A hook is called as hook(customer_id=..., purpose_code=..., event=..., at=...) and
returns a dict of counts to tell the customer (e.g. {"offers_retracted": 2}).
"""

from collections import Counter
from collections.abc import Callable

CONSENT_ENDED_HOOKS: list[Callable[..., dict[str, int]]] = []


def on_consent_ended(hook):
    if hook not in CONSENT_ENDED_HOOKS:
        CONSENT_ENDED_HOOKS.append(hook)
    return hook


def consent_ended(**kwargs) -> Counter:
    effects = Counter()
    for hook in CONSENT_ENDED_HOOKS:
        effects.update(hook(**kwargs))
    return effects


# Called as hook(purpose_code=..., version=..., at=...) when a privacy officer publishes a
# material new version: every earlier consent for that purpose stops counting at once.
MATERIAL_CHANGE_HOOKS: list[Callable[..., dict[str, int]]] = []


def on_material_change(hook):
    if hook not in MATERIAL_CHANGE_HOOKS:
        MATERIAL_CHANGE_HOOKS.append(hook)
    return hook


def material_change(**kwargs) -> Counter:
    effects = Counter()
    for hook in MATERIAL_CHANGE_HOOKS:
        effects.update(hook(**kwargs))
    return effects


# Called as hook(event=..., at=...) for every event the ledger records (choices and the
# objection), inside the transaction that records it, after the state and the other hooks:
# an app that mirrors the ledger (the API's change feed) commits or rolls back with it.
EVENT_RECORDED_HOOKS: list[Callable[..., None]] = []


def on_event_recorded(hook):
    if hook not in EVENT_RECORDED_HOOKS:
        EVENT_RECORDED_HOOKS.append(hook)
    return hook


def event_recorded(**kwargs) -> None:
    for hook in EVENT_RECORDED_HOOKS:
        hook(**kwargs)


# Called as hook(purpose_code=..., at=...) to preview a material change before it is
# published: each returns the counts it *would* report (reads only, changes nothing).
MATERIAL_CHANGE_PREVIEW_HOOKS: list[Callable[..., dict[str, int]]] = []


def on_material_change_preview(hook):
    if hook not in MATERIAL_CHANGE_PREVIEW_HOOKS:
        MATERIAL_CHANGE_PREVIEW_HOOKS.append(hook)
    return hook


def material_change_preview(**kwargs) -> Counter:
    effects = Counter()
    for hook in MATERIAL_CHANGE_PREVIEW_HOOKS:
        effects.update(hook(**kwargs))
    return effects


# --- Leaving the bank and erasure (issue #14) --------------------------------------------------
# Called as hook(customer_id=..., at=...) when a customer leaves (`close_customer`), inside
# its transaction, after every consent was withdrawn: e.g. offers retracts the open offers
# that remain, the API revokes the customer's tokens. Returns counts to report.
CUSTOMER_CLOSED_HOOKS: list[Callable[..., dict[str, int]]] = []


def on_customer_closed(hook):
    if hook not in CUSTOMER_CLOSED_HOOKS:
        CUSTOMER_CLOSED_HOOKS.append(hook)
    return hook


def customer_closed(**kwargs) -> Counter:
    effects = Counter()
    for hook in CUSTOMER_CLOSED_HOOKS:
        effects.update(hook(**kwargs))
    return effects


# Called as hook(customer_id=..., event=..., at=...) when a customer asks to erase what
# consent-based processing produced about them (GDPR Art. 17), inside the transaction that
# records the `erasure_requested` event: each app erases its part and returns counts.
ERASURE_HOOKS: list[Callable[..., dict[str, int]]] = []


def on_erasure_requested(hook):
    if hook not in ERASURE_HOOKS:
        ERASURE_HOOKS.append(hook)
    return hook


def erasure_requested(**kwargs) -> Counter:
    effects = Counter()
    for hook in ERASURE_HOOKS:
        effects.update(hook(**kwargs))
    return effects


# Called as hook(customer_id=..., at=...) inside the transaction in which retention removed
# a customer's whole consent chain (a tombstone now stands for it): apps that copied the
# ledger (the API's change feed) remove their copies. Returns counts.
PROOF_REMOVED_HOOKS: list[Callable[..., dict[str, int]]] = []


def on_proof_removed(hook):
    if hook not in PROOF_REMOVED_HOOKS:
        PROOF_REMOVED_HOOKS.append(hook)
    return hook


def proof_removed(**kwargs) -> Counter:
    effects = Counter()
    for hook in PROOF_REMOVED_HOOKS:
        effects.update(hook(**kwargs))
    return effects


# Called as hook(customer_id=...) for the erasure page: each returns the counts it *would*
# erase on request (reads only), e.g. {"offers": 2, "data_use": 5}.
ERASURE_PREVIEW_HOOKS: list[Callable[..., dict[str, int]]] = []


def on_erasure_preview(hook):
    if hook not in ERASURE_PREVIEW_HOOKS:
        ERASURE_PREVIEW_HOOKS.append(hook)
    return hook


def erasure_preview(**kwargs) -> Counter:
    effects = Counter()
    for hook in ERASURE_PREVIEW_HOOKS:
        effects.update(hook(**kwargs))
    return effects
