-- issue 11: usernames are compared in their RFC 8265 UsernameCaseMapped form, whose first step
-- maps fullwidth characters to their ASCII forms (letters in lower case, as the form is). Rows registered before keep a normalized form
-- with fullwidth ASCII in it; fold it here, so such a user logs in under the new form.
-- A row whose folded form another user already holds keeps its old form: the ASCII user is the
-- one "alice" (src/users/username.ts); an operator removes or renames the twin
-- (docs/security.md). Halfwidth Katakana and Hangul are not folded here.
WITH "folded" AS (
    SELECT "id", translate("username_normalized",
        '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　',
        '!"#$%&''()*+,-./0123456789:;<=>?@abcdefghijklmnopqrstuvwxyz[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ ') AS "target"
    FROM "users"
), "chosen" AS (
    SELECT DISTINCT ON ("target") "folded"."id", "folded"."target"
    FROM "folded" JOIN "users" ON "users"."id" = "folded"."id"
    WHERE "folded"."target" <> "users"."username_normalized"
      AND NOT EXISTS (SELECT 1 FROM "users" AS "other" WHERE "other"."username_normalized" = "folded"."target")
    ORDER BY "target", "created_at", "id"
)
UPDATE "users" SET "username_normalized" = "chosen"."target"
FROM "chosen" WHERE "users"."id" = "chosen"."id";
