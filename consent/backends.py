"""Login backend: Django's, but the user comes with their customer record.

Every customer page needs `request.user.customer`; loading both in one query saves a
round trip on every request (DESIGN §12: constant and few queries per page).
"""

from django.contrib.auth.backends import ModelBackend, UserModel


class CustomerBackend(ModelBackend):
    def get_user(self, user_id):
        user = UserModel._default_manager.select_related("customer").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
