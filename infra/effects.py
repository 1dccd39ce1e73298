"""What an app did because of something another app recorded, said by the app that did it.

A withdrawal recorded by `consent` makes `offers` retract open offers; consent's page
tells the customer "2 open aanbiedingen … ingetrokken" without knowing that offers exist.
Receivers of consent's and lifecycle's signals return `Effect`s: a stable `kind` (for the
API, logs and tests), a count, and the app's own sentence for that count, which reads in
the active language (Dutch or English) when it is shown.

An app declares each kind once, with its words:

    OFFERS_RETRACTED = EffectKind(
        "offers_retracted",
        ngettext_lazy("%(count)d aanbieding ingetrokken", "%(count)d aanbiedingen …", "count"),
    )
    ...
    return [OFFERS_RETRACTED(len(retracted))]
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from django.dispatch import Signal


@dataclass(frozen=True)
class Effect:
    kind: str
    count: int
    # An ngettext_lazy(singular, plural, "count"); None for a detail nobody is told.
    words: Any = None

    def __str__(self) -> str:
        return "" if self.words is None else self.words % {"count": self.count}


@dataclass(frozen=True)
class EffectKind:
    """A kind of effect an app reports, with its words: `KIND(3)` is an Effect."""

    kind: str
    words: Any = None

    def __call__(self, count: int) -> Effect:
        return Effect(self.kind, count, self.words)


class Effects:
    """What every receiver did: one entry per kind (counts added up), in the order the
    kinds came. Reads like a mapping of counts: `effects["offers_retracted"]` is 0 when
    no receiver reported that kind."""

    def __init__(self, effects: Iterable[Effect] = ()) -> None:
        merged: dict[str, Effect] = {}
        for effect in effects:
            if effect.kind in merged:
                first = merged[effect.kind]
                effect = Effect(effect.kind, first.count + effect.count, first.words)
            merged[effect.kind] = effect
        self._effects = tuple(merged.values())

    def __iter__(self) -> Iterator[Effect]:
        return iter(self._effects)

    def __add__(self, other: Iterable[Effect]) -> "Effects":
        return Effects((*self._effects, *other))

    def __getitem__(self, kind: str) -> int:
        return next((effect.count for effect in self._effects if effect.kind == kind), 0)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Effects) and self._effects == other._effects

    def __hash__(self) -> int:
        return hash(self._effects)

    def __repr__(self) -> str:
        return f"Effects({self.as_counts()!r})"

    def as_counts(self) -> dict[str, int]:
        """{kind: count} of every kind a receiver reported (0 included: it looked)."""
        return {effect.kind: effect.count for effect in self._effects}

    def sentences(self, *, zeros: bool = False) -> list[str]:
        """What the person acting is told, in the active language: one sentence per kind
        that has words (and happened, unless `zeros`)."""
        return [
            str(effect)
            for effect in self._effects
            if effect.words is not None and (effect.count or zeros)
        ]


def answers(signal: Signal, **arguments: object) -> list[Any]:
    """Send `signal`: what the receivers returned, each an iterable (None counts as
    nothing), one after the other in the order they connected. A receiver that raises
    stops the sender (`send`, not `send_robust`): its transaction rolls back."""
    found: list[Any] = []
    for _receiver, response in signal.send(sender=None, **arguments):
        found.extend(cast(Iterable[Any], response or ()))
    return found


def collect(signal: Signal, **arguments: object) -> Effects:
    """Send `signal` and gather what every receiver did (each returns `Effect`s)."""
    return Effects(answers(signal, **arguments))
