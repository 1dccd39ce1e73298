from django.urls import path

from . import views

urlpatterns = [
    path("erasure/", views.erasure, name="erasure"),
]
