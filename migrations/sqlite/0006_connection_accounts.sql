-- CRM webhooks name the account (a HubSpot portal), not the tenant: find its connections fast.
CREATE INDEX connections_account ON connections (provider, account_id);
