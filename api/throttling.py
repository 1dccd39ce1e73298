"""Rate limits per token holder: the client, and for the app the customer too, so that a
fresh token (a refresh) does not reset the count. The view's `throttle_scope` picks the
rate from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]; too many answers 429 with Retry-After.

Every throttled answer says where the holder stands, in the headers of the IETF draft
"RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers): the policy,
named after the scope, `RateLimit-Policy: "read";q=120;w=60` (quota per window in
seconds), and `RateLimit: "read";r=117;t=58` (requests left; seconds until the oldest
counted request leaves the window)."""

import math
from dataclasses import dataclass

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle


@dataclass(frozen=True)
class RateLimitState:
    policy: str
    quota: int
    window: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": f'"{self.policy}";q={self.quota};w={self.window}',
            "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset}',
        }


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

    def allow_request(self, request, view):
        self.key, self.history = None, []
        allowed = super().allow_request(request, view)
        if self.key is not None and self.rate is not None:
            # The history is newest first; its last entry leaves the window first.
            oldest = self.history[-1] if self.history else self.now
            request.rate_limit = RateLimitState(
                policy=self.scope,
                quota=self.num_requests,
                window=self.duration,
                remaining=max(self.num_requests - len(self.history), 0),
                reset=max(math.ceil(oldest + self.duration - self.now), 0),
            )
        return allowed
