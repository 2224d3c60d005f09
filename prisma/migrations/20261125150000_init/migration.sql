-- CreateEnum
CREATE TYPE "KeyState" AS ENUM ('next', 'current', 'retiring', 'retired', 'revoked');

-- CreateTable
CREATE TABLE "signing_keys" (
    "kid" TEXT NOT NULL,
    "alg" TEXT NOT NULL,
    "state" "KeyState" NOT NULL,
    "public_jwk" JSONB NOT NULL,
    "private_key_enc" BYTEA,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activated_at" TIMESTAMPTZ(3),
    "retiring_at" TIMESTAMPTZ(3),
    "retire_after" TIMESTAMPTZ(3),
    "retired_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("kid")
);

-- CreateTable
CREATE TABLE "clients" (
    "client_id" TEXT NOT NULL,
    "secret_hash" TEXT,
    "token_endpoint_auth_method" TEXT NOT NULL,
    "grant_types" TEXT[],
    "scopes" TEXT[],
    "audience" TEXT[],
    "signing_alg" TEXT,
    "access_token_ttl" INTEGER,
    "token_profile" TEXT NOT NULL DEFAULT 'rfc9068',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "clients_pkey" PRIMARY KEY ("client_id")
);

-- CreateIndex
CREATE INDEX "signing_keys_state_idx" ON "signing_keys"("state");

-- At most one current and one next key per algorithm: two instances racing to rotate
-- cannot both win (Prisma's schema language has no partial indexes, so this lives here).
CREATE UNIQUE INDEX "signing_keys_one_active_per_alg" ON "signing_keys"("alg", "state") WHERE "state" IN ('current', 'next');
