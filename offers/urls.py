from django.urls import path

from . import views

urlpatterns = [
    path("", views.offers, name="offers"),
    path("data-use/", views.data_use, name="data_use"),
    path("<int:offer_id>/interested/", views.interested, name="offer_interested"),
    path("<int:offer_id>/dismiss/", views.dismiss, name="offer_dismiss"),
]
