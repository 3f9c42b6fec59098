import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, logIn, openDemoTenant, shot, test } from './fixtures';

test('loading and error states are visible, and Retry recovers', async ({ page, errorWatch }) => {
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenantId = await openDemoTenant(page);
  const usersUrl = `**/api/v1/tenants/${tenantId}/users`;
  errorWatch.allow(`/api/v1/tenants/${tenantId}/users`, 500);

  // A slow answer: the page says it is loading.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(usersUrl, async (route) => {
    await held;
    await route.continue();
  });
  await page.getByTestId('nav-users').click();
  await expect(page.getByTestId('loading')).toHaveText('Loading users…');
  await shot(page, 'users-loading');
  release();
  await expect(page.getByTestId('loading')).toHaveCount(0);
  await page.unroute(usersUrl);

  // A failing answer: the page says what failed, what the server said, and offers Retry.
  await page.route(usersUrl, (route) =>
    route.fulfill({
      status: 500,
      contentType: 'application/json',
      body: JSON.stringify({ code: 'internal', message: 'an internal error occurred', request_id: 'e2e-request' }),
    }),
  );
  await page.getByTestId('nav-environments').click();
  await page.getByTestId('nav-users').click();
  const banner = page.getByTestId('error-banner');
  await expect(banner).toContainText('Could not load users:');
  await expect(banner).toContainText('Something went wrong on our side');
  await expect(banner).toContainText('e2e-request');
  await shot(page, 'users-load-error');

  await page.unroute(usersUrl);
  await page.getByTestId('retry-button').click();
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  await expect(page.getByTestId('users-page')).toBeVisible();
  await expect(page.getByTestId('create-user-form')).toBeVisible();
});
