from django.urls import path

from . import views

urlpatterns = [
    path("ledger/checkpoint", views.checkpoint, name="ledger_checkpoint"),
    path("ledger/consistency", views.consistency, name="ledger_consistency"),
    path("ledger/public-key", views.public_key_view, name="ledger_public_key"),
]
