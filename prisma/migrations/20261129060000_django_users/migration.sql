-- issue 13: users imported from Django (`manage.py dumpdata auth.user`) keep their primary key
-- (the simplejwt profile's `user_id`), flags and names; the hash last imported is kept apart
-- from the current one, so a re-import does not undo a rehash to argon2id after login.
ALTER TABLE "users" ADD COLUMN "django_id" INTEGER;
ALTER TABLE "users" ADD COLUMN "imported_password_hash" TEXT;
ALTER TABLE "users" ADD COLUMN "is_staff" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "users" ADD COLUMN "is_superuser" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "users" ADD COLUMN "first_name" TEXT NOT NULL DEFAULT '';
ALTER TABLE "users" ADD COLUMN "last_name" TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX "users_django_id_key" ON "users"("django_id");
