"""The language a customer reads this site in, and is written to and called in.

It is stored on the customer (`Customer.language`): the language switch stores it, the
setting page changes it, and the next login starts in it (`consent.decorators`).
"""

from django.conf import settings

from .models import Customer


def remember_language(*, customer: Customer, language: str) -> bool:
    """Store `language` as the customer's; False (nothing changed) for an unknown code."""
    if language not in dict(settings.LANGUAGES):
        return False
    if customer.language != language:
        Customer.objects.filter(pk=customer.pk).update(language=language)
        customer.language = language
    return True
