"""The OAuth consent screen: django-oauth-toolkit's own view, rendered by our Jinja2 page
(api/jinja2/oauth2_provider/authorize.html)."""

from oauth2_provider import views


class AuthorizationView(views.AuthorizationView):
    """One change: an error page's context has no `url`. The toolkit puts there where it
    would have redirected the app; in Jinja2 that name would hide the pages' `url()` (the
    menu's links), and the page shows no such link."""

    def render_to_response(self, context, **response_kwargs):
        context.pop("url", None)
        return super().render_to_response(context, **response_kwargs)
