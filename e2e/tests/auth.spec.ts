import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, logIn, openDemoTenant, shot, test } from './fixtures';

test('a wrong password is refused with a readable message; the right one logs in', async ({ page, errorWatch }) => {
  errorWatch.allow('/api/v1/auth/login', 401);

  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
  await shot(page, 'login');

  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill('not-the-password');
  // Enter submits the form.
  await page.getByLabel('Password').press('Enter');
  await expect(page.getByTestId('login-error')).toHaveText('Email or password is incorrect.');
  await expect(page).toHaveURL(/\/login$/);
  await shot(page, 'login-wrong-password');

  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  // Operator staff start at the tenant list.
  await expect(page).toHaveURL(/\/tenants$/);
  await expect(page.getByTestId('current-user')).toContainText('Operator admin');
  await expect(page.getByTestId('tenant-table')).toContainText('Demo Company');
  await expect(page.getByTestId('demo-badge').first()).toBeVisible();
  // Connections belong to a tenant: a link once one is chosen, not before.
  await expect(page.getByTestId('nav-connections-disabled')).toBeVisible();
  await expect(page.getByRole('link', { name: /Connections/ })).toHaveCount(0);
  await shot(page, 'tenants-after-login');
});

test('too many failed logins: the page says how long to wait', async ({ page, errorWatch }) => {
  // Throttling for real would lock 127.0.0.1 out for the rest of the run, so the server's
  // answer is replayed here: the UI's part is reading Retry-After and saying it.
  errorWatch.allow('/api/v1/auth/login', 429);
  await page.route('**/api/v1/auth/login', (route) =>
    route.fulfill({
      status: 429,
      headers: { 'Retry-After': '42', 'Content-Type': 'application/json' },
      body: JSON.stringify({
        code: 'too_many_requests',
        message: 'too many failed logins; try again in 42 seconds',
        request_id: 'e2e',
      }),
    }),
  );
  await page.goto('/login');
  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill('whatever-it-is');
  await page.getByLabel('Password').press('Enter');
  await expect(page.getByTestId('login-error')).toHaveText('Too many attempts. Wait 42 seconds and try again.');
  await expect(page.getByTestId('login-submit')).toBeDisabled();
  await shot(page, 'login-throttled');
});

test('logging out ends the session; protected pages then lead to the login page and back', async ({ page }) => {
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenantId = await openDemoTenant(page);

  await page.getByTestId('logout-button').click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByTestId('login-notice')).toHaveText('You have logged out.');
  await shot(page, 'logged-out');

  for (const path of ['/', '/tenants', '/audit', `/t/${tenantId}/environments`, `/t/${tenantId}/users`, `/t/${tenantId}/api-keys`, `/t/${tenantId}/audit`]) {
    await page.goto(path);
    await expect(page, `${path} needs a session`).toHaveURL(/\/login(\?next=.*)?$/);
    await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
    await expect(page.getByTestId('current-user')).toHaveCount(0);
  }
  await expect(page).toHaveURL(new RegExp(`/login\\?next=${encodeURIComponent(`/t/${tenantId}/audit`)}$`));
  await shot(page, 'protected-page-redirects-to-login');

  // Logging in from there leads back to the page that was asked for.
  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByLabel('Password').press('Enter');
  await expect(page).toHaveURL(new RegExp(`/t/${tenantId}/audit$`));
  await expect(page.getByTestId('audit-table')).toBeVisible();
});

test('a session that ends elsewhere sends the person to the login page with a note', async ({ page, errorWatch }) => {
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenantId = await openDemoTenant(page);
  errorWatch.allow(`/api/v1/tenants/${tenantId}/users`, 401);

  // End the session behind the page's back, as an expiry or a logout in another tab would.
  const session = await page.request.get('/api/v1/auth/session');
  expect(session.status()).toBe(200);
  const { csrf_token } = await session.json();
  const logout = await page.request.post('/api/v1/auth/logout', { headers: { 'X-CSRF-Token': csrf_token } });
  expect(logout.status()).toBe(204);

  await page.getByTestId('nav-users').click();
  await expect(page).toHaveURL(/\/login\?next=/);
  await expect(page.getByTestId('login-notice')).toHaveText('Your session has ended. Please log in again.');
  await shot(page, 'session-ended');
});
