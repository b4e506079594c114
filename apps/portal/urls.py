from django.contrib.auth import views as auth_views
from django.urls import path

from apps.portal import views

urlpatterns = [
    path("", views.ask, name="ask"),
    path("documents/<int:document_id>/", views.document, name="document"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
