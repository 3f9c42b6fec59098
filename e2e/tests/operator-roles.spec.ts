import { addOperatorStaff, expect, logIn, openDemoTenant, shot, test } from './fixtures';

test('support staff read every tenant but change nothing', async ({ page }) => {
  addOperatorStaff('sam.support@tandem.local', 'support', 'support-password-123');
  await logIn(page, 'sam.support@tandem.local', 'support-password-123');
  await expect(page).toHaveURL(/\/tenants$/);
  await expect(page.getByTestId('current-user').getByTestId('role-badge')).toHaveText('Support');
  await expect(page.getByTestId('create-tenant-form')).toHaveCount(0);
  await expect(page.getByText('Your role can read tenants but not create them.')).toBeVisible();

  await openDemoTenant(page);
  await expect(page.getByTestId('read-only-note')).toContainText('Support staff can look, and replay or ignore failed records with a reason');
  await page.getByTestId('nav-users').click();
  await expect(page.getByTestId('users-page')).toBeVisible();
  await expect(page.getByTestId('create-user-form')).toHaveCount(0);
  await page.getByTestId('nav-api-keys').click();
  await expect(page.getByTestId('api-keys-page')).toBeVisible();
  await expect(page.getByTestId('create-key-form')).toHaveCount(0);
  await shot(page, 'support-api-keys');
  // Support reads the audit log, the tenant's and the whole one.
  await page.getByTestId('nav-audit').click();
  await expect(page.getByTestId('audit-table')).toBeVisible();
  await page.getByTestId('nav-all-audit').click();
  await expect(page.getByTestId('audit-table')).toBeVisible();
});

test('sales staff work on demo tenants only', async ({ page }) => {
  addOperatorStaff('sally.sales@tandem.local', 'sales', 'sales-password-1234');
  await logIn(page, 'sally.sales@tandem.local', 'sales-password-1234');
  await expect(page).toHaveURL(/\/tenants$/);
  // The whole audit log is not for sales.
  await expect(page.getByTestId('nav-all-audit')).toHaveCount(0);

  // New tenants are demo tenants, nothing else.
  const demo = page.getByRole('checkbox', { name: /Demo tenant/ });
  await expect(demo).toBeChecked();
  await expect(demo).toBeDisabled();
  await page.getByLabel('Name').fill('Sales Demo Ltd');
  await page.getByLabel('Name').press('Enter');
  await expect(page.getByTestId('tenant-created')).toContainText('Sales Demo Ltd');
  const row = page.getByTestId('tenant-row').filter({ hasText: 'Sales Demo Ltd' });
  await expect(row.getByTestId('demo-badge')).toBeVisible();
  await shot(page, 'sales-tenants');

  // In a demo tenant, sales may change things.
  await openDemoTenant(page);
  await expect(page.getByTestId('read-only-note')).toHaveCount(0);
  await page.getByTestId('nav-api-keys').click();
  await expect(page.getByTestId('create-key-form')).toBeVisible();
});
