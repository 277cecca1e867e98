-- The birth date is part of the ID number, which is stored encrypted. Kept in clear beside a masked ID
-- number (first 6 and last 4 shown), it rebuilds the whole number. It is no longer stored: the
-- application derives it from the decrypted ID number when it needs the age or the year. Existing
-- values and the copies in revision snapshots are cleared. The column is dropped in a later release
-- (expand, then contract: during a rolling upgrade an older process may still write it).
UPDATE "nomination" SET "birth_date" = NULL WHERE "birth_date" IS NOT NULL;
UPDATE "nomination_revision" SET "snapshot" = "snapshot" - 'birthDate' WHERE "snapshot" ? 'birthDate';
