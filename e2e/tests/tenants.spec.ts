import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, logIn, shot, test } from './fixtures';

test('operator admins create tenants and switch between them', async ({ page, errorWatch }) => {
  errorWatch.allow('/api/v1/tenants', 400);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/tenants$/);

  // A bad slug is blamed on the slug field.
  await page.getByLabel('Name').fill('Acme GmbH');
  await page.getByLabel('Slug').fill('Not A Slug!');
  await page.getByRole('button', { name: 'Create tenant' }).click();
  await expect(page.getByTestId('field-error-slug')).toContainText('may contain only lower-case letters');
  await expect(page.getByLabel('Slug')).toHaveAttribute('aria-invalid', 'true');
  await shot(page, 'tenants-create-invalid-slug');

  await page.getByLabel('Slug').fill('acme');
  await page.getByLabel('Slug').press('Enter');
  await expect(page.getByTestId('tenant-created')).toContainText('Acme GmbH');
  await expect(page.getByTestId('field-error-slug')).toHaveCount(0);
  const acmeRow = page.getByTestId('tenant-row').filter({ hasText: 'Acme GmbH' });
  await expect(acmeRow).toContainText('acme');
  await expect(acmeRow).toContainText('Customer');
  await shot(page, 'tenants-created');

  // The switcher in the header knows the new tenant at once.
  const switcher = page.getByTestId('tenant-switcher');
  await switcher.selectOption({ label: 'Acme GmbH' });
  await expect(page).toHaveURL(/\/t\/[0-9a-f-]{36}\/environments$/);
  await expect(page.getByTestId('tenant-name')).toHaveText('Acme GmbH');
  await expect(page.getByTestId('env-sandbox-active-keys')).toHaveText('0');
  await expect(page.getByTestId('env-production-active-keys')).toHaveText('0');
  await shot(page, 'tenant-environments');

  // Switching keeps the section.
  await page.getByTestId('nav-users').click();
  await expect(page.getByTestId('users-page')).toBeVisible();
  await switcher.selectOption({ label: 'Demo Company (demo)' });
  await expect(page).toHaveURL(/\/t\/[0-9a-f-]{36}\/users$/);
  await expect(page.getByTestId('tenant-name')).toContainText('Demo Company');
  await shot(page, 'tenant-switched');

  await switcher.selectOption({ label: 'All tenants' });
  await expect(page).toHaveURL(/\/tenants$/);

  // Navigating by other means keeps the switcher in step with the address.
  await acmeRow.getByRole('link', { name: 'Acme GmbH' }).click();
  await expect(page.getByTestId('tenant-name')).toHaveText('Acme GmbH');
  await expect(switcher.locator('option:checked')).toHaveText('Acme GmbH');
  await page.getByTestId('nav-tenants').click();
  await expect(page).toHaveURL(/\/tenants$/);
  await expect(switcher).toHaveValue('');

  // The operator's own audit log covers every tenant.
  await page.getByTestId('nav-all-audit').click();
  await expect(page).toHaveURL(/\/audit$/);
  const created = page.getByTestId('audit-row').filter({ hasText: 'tenant.created' }).filter({ hasText: 'Acme GmbH' });
  await expect(created).toHaveCount(1);
  await expect(created).toContainText(ADMIN_EMAIL);
  await shot(page, 'operator-audit');
});

test('unknown tenants and addresses say so and offer a way back', async ({ page }) => {
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto('/t/00000000-0000-4000-8000-000000000000/users');
  await expect(page.getByTestId('tenant-missing')).toContainText('Tenant not found');
  // Neither the switcher nor the navigation pretends it exists.
  await expect(page.getByTestId('tenant-switcher')).toHaveValue('');
  await expect(page.getByTestId('tenant-nav')).toHaveCount(0);
  await shot(page, 'tenant-not-found');
  await page.goto('/no/such/page');
  await expect(page.getByTestId('not-found')).toContainText('Page not found');
  await page.getByRole('link', { name: 'Go to the start page' }).click();
  await expect(page).toHaveURL(/\/tenants$/);
});

test('the layout stays usable at tablet width', async ({ page }) => {
  await page.setViewportSize({ width: 820, height: 1180 });
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await expect(page.getByTestId('tenant-table')).toBeVisible();
  await shot(page, 'tablet-tenants');
  await page.getByTestId('tenant-table').getByRole('link', { name: 'Demo Company' }).click();
  await page.getByTestId('nav-users').click();
  await expect(page.getByTestId('users-page')).toBeVisible();
  await shot(page, 'tablet-users');
});
