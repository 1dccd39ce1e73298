"""A customer's choice as the site records it: through `record_choice`, with the version
and hash of the text that was on the screen at that moment."""

from consent.choices import notice_on_screen, record_choice
from ledger.models import Action, Channel


def choose_on_screen(customer, purpose_code, action=Action.GRANTED, *, at, channel=Channel.WEB):
    return record_choice(
        customer=customer,
        purpose_code=purpose_code,
        action=action,
        channel=channel,
        actor=customer.user,
        at=at,
        **notice_on_screen(purpose_code=purpose_code, at=at),
    )
