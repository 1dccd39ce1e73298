"""The staff's workflows are plain function views of their apps (`<app>/staff_views/`),
run inside the staff site (config/admin.py, `admin.site`): these wrap and render them."""

from collections.abc import Callable
from functools import wraps

from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse


def staff_view(view: Callable) -> Callable:
    """A workflow's view, inside the staff site (the site's `admin_view`): active staff
    who gave the second factor, or else the admin's login page; CSRF-checked; never
    cached. The view's own permission goes right under it, from the staff's groups:

        @staff_view
        @permission_required("offers.review_offer", raise_exception=True)
        def approve(request, offer_id): ...
    """
    return admin.site.admin_view(view)


def post_only(view: Callable) -> Callable:
    """A button's URL: only a POST does something; anything else finds nothing (404)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "POST":
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def staff_page(request, template: str, context: dict, *, status: int = 200) -> TemplateResponse:
    """`template` in the admin's layout, with what every page of the site gets."""
    return TemplateResponse(
        request, template, {**admin.site.each_context(request), **context}, status=status
    )
