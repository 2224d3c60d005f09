-- issue 11: a client's registration generation, carried by every token and refresh family it
-- is issued; it changes on re-registration, secret rotation and narrowing, which ends them.
ALTER TABLE "clients" ADD COLUMN "generation" TEXT;
UPDATE "clients" SET "generation" = md5(random()::text || "client_id");
ALTER TABLE "clients" ALTER COLUMN "generation" SET NOT NULL;

-- issue 11: the store's generation (the marker kept in Redis or the in-process store), so a
-- store that lost its data is noticed and nothing it forgot is honoured again.
CREATE TABLE "store_generation" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "current" TEXT NOT NULL,
    "retired" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "store_generation_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "store_generation_singleton" CHECK ("id" = 1)
);
