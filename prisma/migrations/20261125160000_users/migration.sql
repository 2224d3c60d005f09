-- CreateTable
CREATE TABLE "users" (
    "id" TEXT NOT NULL,
    "username_normalized" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "email" TEXT,
    "claims" JSONB NOT NULL DEFAULT '{}',
    "password_hash" TEXT NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_username_normalized_key" ON "users"("username_normalized");
