"""The API: who am I, and an endpoint that needs a scope."""
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class TokenHasScope(BasePermission):
    """Allows a request whose access token's space-delimited `scope` claim holds every scope in
    the view's `required_scopes`; an authenticated request without them gets 403."""

    message = "insufficient_scope"

    def has_permission(self, request, view):
        granted = set(str(request.auth.get("scope", "")).split()) if request.auth is not None else set()
        return set(getattr(view, "required_scopes", ())) <= granted


@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def healthz(request):
    return Response({"ok": True})


class WhoAmI(APIView):
    """request.user is simplejwt's TokenUser (id = the `user_id` claim); request.auth the token."""

    def get(self, request):
        return Response({
            "user_id": request.user.id,
            "client_id": request.auth.get("client_id"),
            "scope": request.auth.get("scope", ""),
        })


class Orders(APIView):
    permission_classes = [IsAuthenticated, TokenHasScope]
    required_scopes = ["orders:read"]

    def get(self, request):
        return Response({"orders": [], "user_id": request.user.id})
