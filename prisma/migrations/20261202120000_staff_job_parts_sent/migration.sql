-- How many parts of an export the chat already received: a retried attempt sends only the rest.
ALTER TABLE "staff_job" ADD COLUMN "parts_sent" INTEGER NOT NULL DEFAULT 0;
