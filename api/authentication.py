"""Bearer tokens, from the Authorization header only.

django-oauth-toolkit's DRF class also reads the request's form data (for tokens sent in
a form body, which RFC 9700 rules out and our settings refuse). Reading a body before the
token is checked turned a request without a token into a 415 (a JSON-only API) or a 500
(a broken multipart body). This class shows it a copy of the request without a body, so
authentication never touches what the client sent after the headers."""

import copy

from django.http import QueryDict
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from oauth2_provider.contrib.rest_framework import OAuth2Authentication

from .linked_apps import note_use


class BearerTokenAuthentication(OAuth2Authentication):
    def authenticate(self, request):
        headers_only = copy.copy(request._request)
        headers_only._post, headers_only._files = QueryDict(), MultiValueDict()
        result = super().authenticate(headers_only)
        if result is None:  # for the WWW-Authenticate header
            request._request.oauth2_error = getattr(headers_only, "oauth2_error", {})
            return result
        user, token = result
        if user is not None and token.application_id is not None:
            # The customer's "Gekoppelde apps" page: last used (at most once a minute).
            note_use(user_id=user.pk, application_id=token.application_id, at=timezone.now())
        return result


class BearerTokenScheme(DjangoOAuthToolkitScheme):
    """The OpenAPI security scheme of our class: django-oauth-toolkit's."""

    target_class = "api.authentication.BearerTokenAuthentication"

    def get_security_definition(self, auto_schema):
        definition = super().get_security_definition(auto_schema)
        # OpenAPI 3.0 has no field for PKCE: it is said in words, and as an extension.
        definition["description"] = (
            "Bearer access tokens from /api/v1/oauth/token/. The bank's app uses the"
            " authorization code flow with PKCE (RFC 7636): code_challenge_method S256 is"
            " required, a request without a code challenge is refused. The bank's systems"
            " use client credentials (consent:feed, consent:check)."
        )
        definition["flows"]["authorizationCode"]["x-pkce-required"] = True
        definition["flows"]["authorizationCode"]["x-pkce-methods"] = ["S256"]
        return definition
