"""Rate limits per token holder: the client, and for the app the customer too, so that a
fresh token (a refresh) does not reset the count. The view's `throttle_scope` picks the
rate from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]; too many answers 429 with Retry-After."""

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle


class TokenRateThrottle(ScopedRateThrottle):
    def get_rate(self):
        # Read when asked (not at import), so the rates are the settings in force.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        token = request.auth
        if token is None or not hasattr(token, "application_id"):
            return None  # unauthenticated requests are refused before they count
        holder = f"{token.application_id}-{token.user_id or 'client'}"
        return self.cache_format % {"scope": self.scope, "ident": holder}
