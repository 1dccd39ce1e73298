from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    # Before the purpose pattern: "stop-all" and "lift-objection" are not purpose codes.
    path("choices/stop-all/", views.stop_all, name="stop_all"),
    path("choices/lift-objection/", views.lift_objection_view, name="lift_objection"),
    path("choices/<slug:purpose_code>/", views.choose, name="choose"),
    # What is stored for one purpose, as its card (asked after a choice's answer got lost).
    path("cards/<slug:purpose_code>/", views.card_state, name="card_state"),
    path("history/", views.history, name="history"),
    path("history/<int:event_id>/receipt.json", views.receipt, name="receipt"),
    path("history/<int:event_id>/receipt/", views.receipt_page, name="receipt_page"),
    path("settings/language/", views.language_setting, name="language_setting"),
    path("export/", views.export_page, name="export"),
    path("export.json", views.export_json, name="export_json"),
    path("export/read/", views.export_html, name="export_html"),
    path(
        "purposes/<slug:purpose_code>/v<int:version>/",
        views.purpose_version,
        name="purpose_version",
    ),
]
