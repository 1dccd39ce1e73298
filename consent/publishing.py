"""Publishing a new version of a purpose's notice: what a privacy officer does.

Versions take effect in the order of their numbers, from `published_at` (which may lie in
the future). A material version ends every earlier consent to the purpose from the moment
it takes effect: the engine stops using them (validity reads the versions table), the
apps behind consent undo what relied on them (`consent.signals.material_change`: offers
retracts open offers) and the customers' dashboards ask for a new choice. The retention
sentences of a version are generated from its rules, never typed.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from infra.effects import Effects, collect

from . import signals
from .catalogue import VERSION_FIELDS
from .choices import UnknownPurpose, get_purpose
from .models import NOTICE_FORMATS, Purpose, PurposeVersion
from .retention_rules import InvalidRules, describe_rules, parse_rules
from .textdiff import Piece, changed, word_diff
from .validity import valid_consents

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# A required purpose (contract, legal obligation) rests on no consent: a new text cannot
# end consents that do not exist, so a version of it is never material.
REQUIRED_NOT_MATERIAL = _(
    "Dit doel is nodig voor de rekening of de wet en steunt niet op toestemming: er zijn"
    " geen toestemmingen te beëindigen, dus een nieuwe versie kan niet materieel zijn."
)


class PublishError(Exception):
    """A version that cannot be published. Nothing was written."""


@dataclass(frozen=True)
class PublishedVersion:
    version: PurposeVersion
    consents_needing_renewal: int
    effects: Effects = field(default_factory=Effects)
    takes_effect_later: bool = False


def publish_version(
    *,
    purpose_code: str,
    material: bool,
    texts: Mapping[str, Any],
    actor: "User | None",
    at: dt.datetime,
    now: dt.datetime | None = None,
) -> PublishedVersion:
    """A privacy officer publishes new texts for a purpose at `now`; they apply from `at`
    on (`published_at`), which may lie in the future (default: `now` is `at`).

    A material version makes every earlier consent for the purpose invalid from the
    moment it takes effect: the engine stops using them (validity is computed from the
    versions table, "newest material version published by then"), open offers that
    relied on them are retracted, and the customers' dashboards ask for a new choice.
    For a version that is in effect when it is published, its receivers retract at once, in
    this transaction. For one that takes effect later nothing happens now: until then the
    current text stays the one customers read and consent to, and the engine's first run
    after `at` retracts the offers whose consent lapsed (`retract_where_consent_ended`).

    Retention: `texts["retention_rules"]` (default: the newest version's) are
    the periods `enforce_retention` applies; the version is published in the newest
    notice format, with the rules inside its hashed text and its retention sentences
    made from them (`retention_texts`; typed ones are replaced).
    """
    now = now or at
    try:
        purpose = get_purpose(purpose_code)
    except UnknownPurpose as error:
        raise PublishError(str(error)) from None
    if material and purpose.required:
        raise PublishError(REQUIRED_NOT_MATERIAL)
    texts = {**texts, **retention_texts(purpose, rules=texts.get("retention_rules"))}
    missing = [name for name in VERSION_FIELDS if not _filled(texts.get(name))]
    if missing:
        raise PublishError(_("Ontbrekende teksten: %(fields)s") % {"fields": ", ".join(missing)})
    with transaction.atomic():
        # Serialise publications per purpose so two officers cannot take the same number.
        Purpose.objects.select_for_update().get(pk=purpose.pk)
        latest = purpose.versions.order_by("-version").first()
        if latest is not None and at < latest.published_at:
            # Versions take effect in the order of their numbers: "the newest version
            # published by then" must be the one published last.
            raise PublishError(
                _(
                    "Versie %(version)d geldt pas vanaf %(date)s; een nieuwe versie kan niet"
                    " eerder gelden."
                )
                % {
                    "version": latest.version,
                    "date": date_format(timezone.localtime(latest.published_at), "j F Y H:i"),
                }
            )
        # Counted before the new version exists: the consents valid now that it ends.
        renewals = valid_consents(purpose_code=purpose.code, at=now).count() if material else 0
        version = PurposeVersion.objects.create(
            purpose=purpose,
            version=(latest.version if latest else 0) + 1,
            material=material,
            published_at=at,
            published_by=actor,
            notice_format=NOTICE_FORMATS[-1],
            retention_rules=texts["retention_rules"],
            **{name: _cleaned(texts[name]) for name in VERSION_FIELDS},
        )
        effects = Effects()
        later = at > now
        if material and not later:
            effects = collect(
                signals.material_change, purpose_code=purpose.code, version=version, at=now
            )
    return PublishedVersion(
        version=version,
        consents_needing_renewal=renewals,
        effects=effects,
        takes_effect_later=later,
    )


@dataclass(frozen=True)
class MaterialChangeImpact:
    """What a material version would end if it took effect at `at`."""

    valid_consents: int
    effects: Effects


def material_change_impact(*, purpose_code: str, at: dt.datetime) -> MaterialChangeImpact:
    """For the privacy officer's second confirmation: how many valid consents to the
    purpose a material version would end, and what the apps behind it would undo (open
    offers retracted), counted now. Reads only."""
    purpose = get_purpose(purpose_code)
    return MaterialChangeImpact(
        valid_consents=valid_consents(purpose_code=purpose.code, at=at).count(),
        effects=collect(signals.material_change_preview, purpose_code=purpose.code, at=at),
    )


# --- Before publishing: the texts to start from, and the preview ---------------------------
def newest(field: str) -> Subquery:
    """The newest version's `field`, as a subquery per purpose (texts that are to take
    effect later included: the officer works on the newest)."""
    return Subquery(
        PurposeVersion.objects.filter(purpose=OuterRef("pk")).order_by("-version").values(field)[:1]
    )


def with_newest_titles(purposes: QuerySet[Purpose]) -> QuerySet[Purpose]:
    """Purposes with `_title_nl` and `_title_en`: their newest version's title, which
    `in_language(purpose, "_title")` reads."""
    return purposes.annotate(_title_nl=newest("title_nl"), _title_en=newest("title_en"))


def starting_texts(*, purpose_id: int | str) -> dict[str, Any]:
    """What a new version of the purpose starts from: the texts of its newest version
    (also one that takes effect later); nothing for an unknown purpose."""
    latest = PurposeVersion.objects.filter(purpose_id=purpose_id).order_by("-version").first()
    return {name: getattr(latest, name) for name in VERSION_FIELDS} if latest else {}


@dataclass(frozen=True)
class NoticeComparison:
    notice: str  # the new notice in one language, exactly as its hash would be kept
    diff: list[Piece]  # word by word against the current version's notice

    @property
    def changed(self) -> bool:
        return changed(self.diff)


@dataclass(frozen=True)
class Preview:
    """A version as it would be published, next to the newest one. Nothing is saved."""

    draft: PurposeVersion  # unsaved: numbered, with the retention sentences it would get
    current: PurposeVersion | None
    notices: dict[str, NoticeComparison]  # per language, "nl" and "en"


def preview_version(*, purpose: Purpose, material: bool, texts: Mapping[str, Any]) -> Preview:
    """The privacy officer's preview of new texts for `purpose`: the version as customers
    would read it (the newest version's retention rules, and the sentences made from
    them), and the word-level comparison of its notice with the newest version's."""
    current = purpose.versions.order_by("-version").first()
    draft = PurposeVersion(
        purpose=purpose,
        material=material,
        version=(current.version if current else 0) + 1,
        **{name: texts[name] for name in VERSION_FIELDS},
    )
    rules = current.retention_rules if current is not None else []
    for attribute, value in retention_texts(purpose, rules=rules).items():
        setattr(draft, attribute, value)
    notices = {}
    for language in ("nl", "en"):
        notice = draft.notice_text(language)
        before = current.notice_text(language) if current else ""
        notices[language] = NoticeComparison(notice=notice, diff=word_diff(before, notice))
    return Preview(draft=draft, current=current, notices=notices)


def preview_material_version(
    *, purpose: Purpose, texts: Mapping[str, Any], at: dt.datetime
) -> tuple[Preview, MaterialChangeImpact]:
    """The second confirmation of a material version: its preview, and what it would end
    if it took effect at `at` (`material_change_impact`)."""
    preview = preview_version(purpose=purpose, material=True, texts=texts)
    return preview, material_change_impact(purpose_code=purpose.code, at=at)


class RetentionTexts(TypedDict):
    retention_rules: list[dict[str, Any]]
    retention_nl: str
    retention_en: str


def retention_texts(purpose: Purpose, *, rules: object = None) -> RetentionTexts:
    """The rules of a new version (as given, else the newest version's: retention stays as
    it was unless the privacy officer changes it) and its retention sentences, generated
    from them: what a notice says about retention is never typed twice."""
    if rules is None:
        latest = purpose.versions.order_by("-version").first()
        rules = latest.retention_rules if latest is not None else []
    try:
        parsed = parse_rules(rules)
    except InvalidRules as error:
        raise PublishError(_("Ongeldige bewaarregels: %(error)s") % {"error": error}) from None
    if not parsed:
        raise PublishError(_("Een tekst zegt hoe lang wij de gegevens bewaren: geef bewaarregels."))
    return {
        "retention_rules": [rule.as_json() for rule in parsed],
        "retention_nl": describe_rules(parsed, "nl"),
        "retention_en": describe_rules(parsed, "en"),
    }


def _filled(value: str | list[object] | tuple[object, ...] | None) -> bool:
    if isinstance(value, list | tuple):
        return any(str(item).strip() for item in value)
    return bool((value or "").strip())


def _cleaned(value: str | list[object] | tuple[object, ...]) -> str | list[str]:
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if str(item).strip()]
    return value.strip()
