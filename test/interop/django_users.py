"""Issue 13 acceptance: users made by Django's own create_user under each password hasher,
dumped with `manage.py dumpdata auth.user`. Prints one JSON object: {"dump": [...], "users":
[{"username", "password", "pk", "can_log_in"}]}. Uses an in-memory SQLite database only."""
import io
import json

import django
from django.conf import settings

HASHERS = {
    "pbkdf2_sha256": "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "pbkdf2_sha1": "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "argon2": "django.contrib.auth.hashers.Argon2PasswordHasher",
    "bcrypt_sha256": "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "bcrypt": "django.contrib.auth.hashers.BCryptPasswordHasher",
}

settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    PASSWORD_HASHERS=list(HASHERS.values()),
    USE_TZ=True,
)
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

call_command("migrate", verbosity=0)
users = []
for name, path in HASHERS.items():
    password = f"{name} pässword ✓ 42"
    with override_settings(PASSWORD_HASHERS=[path]):
        u = User.objects.create_user(f"user_{name}", f"{name}@example.com", password, is_staff=name == "argon2")
    assert u.password.startswith(name + "$"), u.password
    users.append({"username": u.username, "password": password, "pk": u.pk, "can_log_in": True})
inactive = User.objects.create_user("inactive", "", "inactive password 42", is_active=False)
users.append({"username": "inactive", "password": "inactive password 42", "pk": inactive.pk, "can_log_in": False})
unusable = User.objects.create_user("unusable", "", None)
users.append({"username": "unusable", "password": "", "pk": unusable.pk, "can_log_in": False})
admin = User.objects.create_superuser("boss", "boss@example.com", "boss password 42")
users.append({"username": "boss", "password": "boss password 42", "pk": admin.pk, "can_log_in": True})

out = io.StringIO()
call_command("dumpdata", "auth.user", stdout=out)
print(json.dumps({"dump": json.loads(out.getvalue()), "users": users}))
