-- A person's decision about a record skipped as a duplicate (JSON: link to a named twin with one
-- side leading, or create it anew), read by the replay it queues; cleared when it fails again.
ALTER TABLE failed_records ADD COLUMN decision TEXT;
