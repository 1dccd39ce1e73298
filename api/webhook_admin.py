"""Webhooks in the admin, for privacy officers (`api.webhooks`).

An officer registers an endpoint for one of the bank's systems and sees its secret once;
another approves it on its page (four eyes). Rotating the secret (shown once again) and
disabling take one officer. Endpoints are never edited or deleted here: another URL is
another endpoint. The deliveries and the log of every attempt are read-only.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ledger.admin import ReadOnlyAdmin

from .forms import RegisterWebhookForm
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .webhooks import (
    APPROVE_PERMISSION,
    CHANGE_PERMISSION,
    ROTATION_OVERLAP,
    WebhookRefused,
    approve_endpoint,
    disable_endpoint,
    register_endpoint,
    rotate_secret,
)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "application", "state", "registered_by", "approved_by", "disabled_at")
    list_select_related = ("application", "registered_by", "approved_by")
    search_fields = ("url", "application__name")
    # Never the secret: it was shown once, to whoever registered or rotated it.
    fields = (
        "application",
        "url",
        "state",
        "after_id",
        "registered_by",
        "registered_at",
        "approved_by",
        "approved_at",
        "secret_rotated_by",
        "secret_rotated_at",
        "previous_secret_until",
        "disabled_by",
        "disabled_at",
        "deliveries_link",
    )
    readonly_fields = fields

    @admin.display(description=_("staat"))
    def state(self, endpoint):
        if endpoint.disabled_at is not None:
            return _("uitgeschakeld")
        if endpoint.approved_at is None:
            return _("wacht op goedkeuring")
        return _("actief")

    @admin.display(description=_("afleveringen"))
    def deliveries_link(self, endpoint):
        url = (
            reverse("admin:api_webhookdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
        )
        return format_html('<a href="{}">{}</a>', url, _("Afleveringen en hun pogingen"))

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:endpoint_id>/approve/", view(self.approve_view), name="api_webhook_approve"),
            path("<int:endpoint_id>/rotate/", view(self.rotate_view), name="api_webhook_rotate"),
            path("<int:endpoint_id>/disable/", view(self.disable_view), name="api_webhook_disable"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """Register an endpoint; its secret is on the answer page, once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RegisterWebhookForm(request.POST if request.method == "POST" else None)
        registered = None
        if form.is_valid():
            try:
                registered = register_endpoint(
                    application_id=form.cleaned_data["application"].pk,
                    url=form.cleaned_data["url"],
                    by=request.user,
                    at=timezone.now(),
                )
            except WebhookRefused as refusal:
                form.add_error(None, refusal.message)
        return self._page(request, title=_("Webhook registreren"), form=form, registered=registered)

    def approve_view(self, request, endpoint_id):
        if not request.user.has_perm(APPROVE_PERMISSION):
            raise PermissionDenied
        return self._act(request, endpoint_id, approve_endpoint, _("Goedgekeurd."))

    def disable_view(self, request, endpoint_id):
        if not request.user.has_perm(CHANGE_PERMISSION):
            raise PermissionDenied
        return self._act(request, endpoint_id, disable_endpoint, _("Uitgeschakeld."))

    def rotate_view(self, request, endpoint_id):
        if request.method != "POST":
            raise Http404
        if not request.user.has_perm(CHANGE_PERMISSION):
            raise PermissionDenied
        endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
        try:
            rotated = rotate_secret(endpoint_id=endpoint.pk, by=request.user, at=timezone.now())
        except WebhookRefused as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            return HttpResponseRedirect(self._change_url(endpoint))
        return self._page(
            request,
            title=_("Nieuw secret voor %(url)s") % {"url": endpoint.url},
            registered=rotated,
            rotated=True,
            overlap_hours=int(ROTATION_OVERLAP.total_seconds() // 3600),
        )

    def _act(self, request, endpoint_id, act, done):
        if request.method != "POST":
            raise Http404
        endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
        try:
            act(endpoint_id=endpoint.pk, by=request.user, at=timezone.now())
        except WebhookRefused as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(endpoint))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        endpoint = self.get_object(request, object_id)
        pending = endpoint is not None and endpoint.approved_at is None
        live = endpoint is not None and endpoint.disabled_at is None
        own = endpoint is not None and endpoint.registered_by_id == request.user.pk
        context = {
            **(extra_context or {}),
            "may_approve": pending
            and live
            and not own
            and request.user.has_perm(APPROVE_PERMISSION),
            "own_registration": pending and live and own,
            "may_change": live and request.user.has_perm(CHANGE_PERMISSION),
        }
        return super().change_view(request, object_id, form_url, context)

    def _change_url(self, endpoint):
        return reverse("admin:api_webhookendpoint_change", args=[endpoint.pk])

    def _page(self, request, **context):
        return TemplateResponse(
            request,
            "admin/api/webhookendpoint/register.html",
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("number", "attempted_at", "status_code", "duration_ms", "error", "response")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("number",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "change_id", "endpoint", "status", "attempts", "due_at", "finished_at")
    list_filter = ("status", "endpoint")
    list_select_related = ("endpoint",)
    search_fields = ("=change__id",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ("endpoint", "change_id", "status", "attempts", "due_at", "created_at", "finished_at")
    readonly_fields = fields
    inlines = [AttemptInline]


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    """The delivery log: one row per attempt."""

    list_display = (
        "attempted_at",
        "delivery",
        "number",
        "status_code",
        "duration_ms",
        "error",
        "short_response",
    )
    list_filter = ("status_code", "delivery__endpoint")
    list_select_related = ("delivery",)
    date_hierarchy = "attempted_at"
    show_full_result_count = False

    @admin.display(description=_("antwoord"))
    def short_response(self, attempt):
        return attempt.response[:120]
