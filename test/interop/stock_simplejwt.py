"""Issue 13: stock djangorestframework-simplejwt views (ROTATE_REFRESH_TOKENS and
BLACKLIST_AFTER_ROTATION on), to replay the /api/token/ table against. Usage:
stock_simplejwt.py PORT DBFILE. Makes users alice (active), bob (inactive) and carol (unusable
password) with the password below, then serves until killed."""
import sys

import django
from django.conf import settings

PORT, DB = sys.argv[1], sys.argv[2]
PASSWORD = "correct horse battery staple"

settings.configure(
    DEBUG=False,
    SECRET_KEY="stock-simplejwt-test-only",
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework",
                    "rest_framework_simplejwt.token_blacklist"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB}},
    PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"],
    USE_TZ=True,
    REST_FRAMEWORK={"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]},
    SIMPLE_JWT={"ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": True},
)
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework_simplejwt.views import (  # noqa: E402
    TokenBlacklistView, TokenObtainPairView, TokenRefreshView, TokenVerifyView)

urlpatterns = [
    path("api/token/", TokenObtainPairView.as_view()),
    path("api/token/refresh/", TokenRefreshView.as_view()),
    path("api/token/verify/", TokenVerifyView.as_view()),
    path("api/token/blacklist/", TokenBlacklistView.as_view()),
]

call_command("migrate", verbosity=0)
User.objects.create_user("alice", "", PASSWORD)
User.objects.create_user("bob", "", PASSWORD, is_active=False)
User.objects.create_user("carol", "", None)
call_command("runserver", f"127.0.0.1:{PORT}", use_reloader=False, verbosity=0)
