-- A connection's own rate for the CRM's search API, where the CRM limits searches apart (HubSpot:
-- 5 a second by default, raised on some accounts). NULL takes the connector's default.
ALTER TABLE connections ADD COLUMN search_rate_limit_per_second REAL;
