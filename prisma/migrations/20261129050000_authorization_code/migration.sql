-- Issue 10: authorization code flow. Redirect URIs are matched by exact string (RFC 6749
-- §3.1.2.3 as tightened by OAuth 2.1); `consent` is first_party (no consent page) or third_party.
ALTER TABLE "clients" ADD COLUMN "redirect_uris" TEXT[] DEFAULT ARRAY[]::TEXT[];
ALTER TABLE "clients" ADD COLUMN "post_logout_redirect_uris" TEXT[] DEFAULT ARRAY[]::TEXT[];
ALTER TABLE "clients" ADD COLUMN "consent" TEXT NOT NULL DEFAULT 'first_party';
