"""A stateless Django REST Framework resource server that accepts Sigil access tokens with
stock djangorestframework-simplejwt, configured only through SIMPLE_JWT.

Environment:
  SIGIL_ISSUER     Sigil's ISSUER, exactly (no trailing slash)      default http://localhost:3000
  SIGIL_AUDIENCE   this API's identifier: the `audience` of the Sigil clients calling it
  SIGIL_ALGORITHM  ES256 or RS256: the `signing_alg` of those clients (simplejwt takes one)

The Sigil clients that call this API must be registered with
  "token_profile": "simplejwt", "signing_alg": <SIGIL_ALGORITHM>, "audience": <SIGIL_AUDIENCE>
so their tokens carry `token_type: "access"` and `user_id` (= sub), which simplejwt requires.
"""
import os

SIGIL_ISSUER = os.environ.get("SIGIL_ISSUER", "http://localhost:3000")
SIGIL_AUDIENCE = os.environ.get("SIGIL_AUDIENCE", "https://orders.example")
SIGIL_ALGORITHM = os.environ.get("SIGIL_ALGORITHM", "ES256")
if SIGIL_ALGORITHM not in ("ES256", "RS256"):
    raise RuntimeError("SIGIL_ALGORITHM must be ES256 or RS256")

# Django's own secret (sessions, CSRF); no token is signed or checked with it.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

ROOT_URLCONF = "resource_server.urls"
WSGI_APPLICATION = "resource_server.wsgi.application"
# contrib.auth only because simplejwt's TokenUser refers to its Group and Permission models.
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
# Stateless: JWTStatelessUserAuthentication builds the user from the token, no database needed.
DATABASES = {}
USE_TZ = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

SIMPLE_JWT = {
    # Exactly one algorithm, and a JWKS holding only that algorithm's keys: with both EC and RSA
    # keys in the set, a token naming an EC kid under RS256 makes PyJWT raise a TypeError that
    # simplejwt does not catch (a 500), and the wrong-type keys are just noise to refetch.
    "ALGORITHM": SIGIL_ALGORITHM,
    "JWK_URL": f"{SIGIL_ISSUER}/.well-known/jwks.json?alg={SIGIL_ALGORITHM}",
    "VERIFYING_KEY": None,
    # This service only verifies; nothing may be signed (and HS* is never configured).
    "SIGNING_KEY": None,
    "ISSUER": SIGIL_ISSUER,
    "AUDIENCE": SIGIL_AUDIENCE,
    "LEEWAY": 30,
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "AUTH_TOKEN_CLASSES": ("rest_framework_simplejwt.tokens.AccessToken",),
    "AUTH_HEADER_TYPES": ("Bearer",),
}
