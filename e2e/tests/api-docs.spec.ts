import { expect, shot, test } from './fixtures';

test('the API reference renders the OpenAPI document, without logging in', async ({ page }) => {
  await page.goto('/api-docs');
  await expect(page).toHaveURL(/\/api-docs$/);
  await expect(page.getByRole('heading', { level: 1, name: /Tandem API/ })).toBeVisible();
  // Not logged in: the header offers to log in, the page is there anyway.
  await expect(page.getByRole('link', { name: 'Log in' })).toBeVisible();

  for (const group of ['Authentication', 'Tenants', 'Environments', 'Users', 'API keys', 'Audit', 'Schemas']) {
    await expect(page.getByRole('heading', { level: 2, name: group, exact: true })).toBeVisible();
  }

  const createKey = page.locator('[data-testid="api-operation"][data-method="POST"][data-path="/api/v1/tenants/{tenant_id}/api-keys"]');
  await expect(createKey).toContainText('Create an API key for one environment');
  await expect(createKey).toContainText('tenant_id');
  await expect(createKey).toContainText('CreateApiKeyRequest');
  await expect(createKey.locator('.status')).toHaveText(['201', '400', '403', '404']);

  const audit = page.locator('[data-testid="api-operation"][data-method="GET"][data-path="/api/v1/tenants/{tenant_id}/audit"]');
  await expect(audit).toContainText('before');
  await expect(audit).toContainText('Viewers do not read the audit log');

  const whoami = page.locator('[data-testid="api-operation"][data-path="/api/v1/app/whoami"]');
  await expect(whoami).toContainText('API key (Bearer)');

  // Type links jump to the schema.
  await createKey.getByRole('link', { name: 'CreateApiKeyRequest' }).click();
  await expect(page).toHaveURL(/#schema-CreateApiKeyRequest$/);
  await expect(page.locator('#schema-CreateApiKeyRequest')).toBeInViewport();
  await expect(page.locator('#schema-EnvironmentKind')).toContainText('sandbox');

  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'api-docs');
});
