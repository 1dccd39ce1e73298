from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import override

from config.staff_otp.activation import ActivationRefused, issue_activation_code


class Command(BaseCommand):
    help = (
        "Print a one-time activation code with which a staff member enrols an authenticator"
        " (the first superuser, or recovery when nobody can issue one in the admin). The code"
        " is stored only as a hash, works once, for this user only, and expires."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        try:
            issued = issue_activation_code(user=user, issued_by=None, at=timezone.now())
        except ActivationRefused as refusal:
            with override("en"):
                raise CommandError(f"{username!r}: {refusal.message}") from None
        until = timezone.localtime(issued.activation.expires_at)
        self.stdout.write(
            f"Activation code for {username}: {issued.code}\n"
            f"Valid once, until {until:%Y-%m-%d %H:%M %Z}. Hand it over yourself; it is not"
            " stored and is shown only now."
        )
