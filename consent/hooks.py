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
