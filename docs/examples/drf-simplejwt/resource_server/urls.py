from django.urls import path

from . import views

urlpatterns = [
    path("healthz", views.healthz),
    path("api/whoami", views.WhoAmI.as_view()),
    path("api/orders", views.Orders.as_view()),
]
