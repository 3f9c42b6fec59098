-- Two-way only: the CRM's copy of the record as of the last sync, in the app's model (what Tandem
-- read from the CRM, or what it wrote there read back through the mapping). A CRM value equal to
-- it is no change on the CRM's side, even where a lossy mapping makes it differ from `base`.
ALTER TABLE sync_links ADD COLUMN crm_base TEXT;
