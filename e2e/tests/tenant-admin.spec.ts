import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, freshPage, logIn, openDemoTenant, shot, test } from './fixtures';

// One story, step by step: an operator admin sets up the demo tenant's users and an API key,
// the new people log in, and the audit log shows it all. Later steps use what earlier ones made.
test.describe.serial('setting up the demo tenant', () => {
  let tenantId = '';
  const admin = { email: 'maria.admin@example.com', name: 'Maria Admin', password: '' };
  const viewer = { email: 'viktor.viewer@example.com', name: 'Viktor Viewer', password: 'viewer-password-123' };

  test('an operator admin adds users; the generated password is shown once', async ({ page, errorWatch }) => {
    await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    tenantId = await openDemoTenant(page);
    errorWatch.allow(`/api/v1/tenants/${tenantId}/users`, 400);
    await expect(page.getByTestId('environments-page')).toBeVisible();
    await shot(page, 'demo-environments');

    await page.getByTestId('nav-users').click();
    await expect(page).toHaveURL(new RegExp(`/t/${tenantId}/users$`));
    await expect(page).toHaveTitle('Users · Tandem');
    await expect(page.getByTestId('empty-state')).toHaveText('No users yet — add the first one below.');
    await shot(page, 'users-empty');

    // A password that is too short is blamed on the password field.
    const form = page.getByTestId('create-user-form');
    await form.getByLabel('Email').fill(admin.email);
    await form.getByLabel('Name').fill(admin.name);
    await form.getByLabel('Password').fill('short');
    await form.getByLabel('Password').press('Enter');
    await expect(page.getByTestId('field-error-password')).toHaveText('Must be at least 12 characters (it has 5)');
    await expect(form.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
    await shot(page, 'users-field-error');

    // Without a password one is generated and shown once.
    await form.getByLabel('Password').fill('');
    await page.getByRole('button', { name: 'Add user' }).click();
    const generated = page.getByTestId('generated-password');
    await expect(generated).toBeVisible();
    admin.password = ((await generated.textContent()) ?? '').trim();
    expect(admin.password.length).toBeGreaterThanOrEqual(12);
    await expect(page.getByTestId('secret-box')).toContainText("You won't see it again.");
    const adminRow = page.getByTestId('user-row').filter({ hasText: admin.email });
    await expect(adminRow).toContainText(admin.name);
    await expect(adminRow.getByTestId('user-role-select')).toHaveValue('viewer');
    await shot(page, 'users-generated-password');

    // The role is changed with the select.
    const patched = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/users/'));
    await adminRow.getByTestId('user-role-select').selectOption('admin');
    expect((await patched).status()).toBe(200);
    await expect(adminRow.getByTestId('user-role-select')).toHaveValue('admin');

    // A second user, a viewer with a password chosen here.
    await page.getByTestId('dismiss-secret').click();
    await expect(page.getByTestId('secret-box')).toHaveCount(0);
    await form.getByLabel('Email').fill(viewer.email);
    await form.getByLabel('Name').fill(viewer.name);
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByLabel('Password').fill(viewer.password);
    await form.getByLabel('Password').press('Enter');
    await expect(page.getByTestId('user-created')).toContainText(viewer.email);
    await expect(page.getByTestId('user-row')).toHaveCount(2);
    await shot(page, 'users-listed');

    // The new users appear in the list after a reload too: they are really stored.
    await page.reload();
    await expect(page.getByTestId('user-row').filter({ hasText: viewer.email })).toBeVisible();
    await expect(page.getByTestId('user-row').filter({ hasText: admin.email }).getByTestId('user-role-select')).toHaveValue('admin');
  });

  test('the new users log in, each with what their role allows', async ({ browser, errorWatch }) => {
    // The tenant admin, in a browser that has never seen Tandem.
    const adminPage = await freshPage(browser, errorWatch);
    await logIn(adminPage, admin.email, admin.password);
    await expect(adminPage).toHaveURL(new RegExp(`/t/${tenantId}/environments$`));
    await expect(adminPage.getByTestId('own-tenant')).toHaveText('Demo Company');
    await expect(adminPage.getByTestId('current-user')).toContainText(admin.name);
    await expect(adminPage.getByTestId('current-user').getByTestId('role-badge')).toHaveText('Admin');
    // Tenant users have no tenant switcher and no operator pages.
    await expect(adminPage.getByTestId('tenant-switcher')).toHaveCount(0);
    await expect(adminPage.getByTestId('nav-tenants')).toHaveCount(0);
    await shot(adminPage, 'tenant-admin-home');
    await adminPage.getByTestId('nav-users').click();
    await expect(adminPage.getByTestId('create-user-form')).toBeVisible();
    await adminPage.context().close();

    // The viewer sees everything but can change nothing.
    const viewerPage = await freshPage(browser, errorWatch);
    await logIn(viewerPage, viewer.email, viewer.password);
    await expect(viewerPage).toHaveURL(new RegExp(`/t/${tenantId}/environments$`));
    await expect(viewerPage.getByTestId('read-only-note')).toContainText('Viewers can look but not change anything');
    await viewerPage.getByTestId('nav-users').click();
    await expect(viewerPage.getByTestId('user-row')).toHaveCount(2);
    await expect(viewerPage.getByTestId('create-user-form')).toHaveCount(0);
    await expect(viewerPage.getByTestId('user-role-select')).toHaveCount(0);
    await expect(viewerPage.getByTestId('remove-user')).toHaveCount(0);
    await shot(viewerPage, 'viewer-users');
    await viewerPage.getByTestId('nav-api-keys').click();
    await expect(viewerPage.getByTestId('create-key-form')).toHaveCount(0);
    await expect(viewerPage.getByTestId('nav-audit')).toHaveCount(0);
    await viewerPage.goto(`/t/${tenantId}/audit`);
    await expect(viewerPage.getByTestId('audit-not-allowed')).toBeVisible();
    await shot(viewerPage, 'viewer-audit');
    await viewerPage.context().close();
  });

  test('removing a user asks for confirmation first', async ({ page, errorWatch }) => {
    await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.goto(`/t/${tenantId}/users`);

    // The tenant's last admin cannot be demoted: the row says why and the select goes back.
    errorWatch.allow(new RegExp(`^/api/v1/tenants/${tenantId}/users/[0-9a-f-]{36}$`), 409);
    const adminRow = page.getByTestId('user-row').filter({ hasText: admin.email });
    await adminRow.getByTestId('user-role-select').selectOption('viewer');
    await expect(page.getByTestId('error-banner')).toContainText('Could not change the role:');
    await expect(page.getByTestId('error-banner')).toContainText('This conflicts with something that already exists.');
    await expect(adminRow.getByTestId('user-role-select')).toHaveValue('admin');
    await shot(page, 'users-last-admin');
    const viewerRow = page.getByTestId('user-row').filter({ hasText: viewer.email });
    await viewerRow.getByTestId('remove-user').click();
    const dialog = page.getByTestId('confirm-dialog');
    await expect(dialog).toContainText(viewer.email);
    // Focus starts on Cancel; Escape closes without removing.
    await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
    await shot(page, 'users-remove-confirm');
    await page.keyboard.press('Escape');
    await expect(dialog).toHaveCount(0);
    await expect(viewerRow).toBeVisible();

    await viewerRow.getByTestId('remove-user').click();
    await page.getByTestId('confirm-button').click();
    await expect(dialog).toHaveCount(0);
    await expect(viewerRow).toHaveCount(0);
    await expect(page.getByTestId('user-row')).toHaveCount(1);
    await shot(page, 'users-after-remove');
  });

  test('an API key works until it is revoked; its secret is shown once', async ({ page, request, context }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.goto(`/t/${tenantId}/api-keys`);
    await expect(page.getByTestId('empty-state')).toHaveText('No API keys yet — create one for your app below.');
    await shot(page, 'api-keys-empty');

    await page.getByLabel('Environment').selectOption('production');
    await page.getByLabel('Name').fill('CRM sync (e2e)');
    await page.getByLabel('Name').press('Enter');
    const secretBox = page.getByTestId('secret-box');
    await expect(secretBox).toBeVisible();
    await expect(secretBox).toContainText("You won't see it again.");
    const secret = ((await page.getByTestId('new-api-key-secret').textContent()) ?? '').trim();
    expect(secret.length).toBeGreaterThan(20);
    const row = page.getByTestId('api-key-row').filter({ hasText: 'CRM sync (e2e)' });
    await expect(row).toContainText('Production');
    await expect(row.getByTestId('api-key-status')).toHaveText('Active');
    await expect(row).toContainText('Never');
    await shot(page, 'api-key-created');

    // The copy button puts the key on the clipboard.
    await page.getByTestId('copy-secret').click();
    await expect(page.getByTestId('copy-secret')).toHaveText('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

    // The key works, for the right tenant and environment.
    const identity = await request.get('/api/v1/app/whoami', { headers: { Authorization: `Bearer ${secret}` } });
    expect(identity.status()).toBe(200);
    const who = await identity.json();
    expect(who.tenant_id).toBe(tenantId);
    expect(who.tenant_name).toBe('Demo Company');
    expect(who.environment).toBe('production');
    expect(secret.startsWith(who.key_prefix)).toBe(true);
    await expect(row).toContainText(who.key_prefix);

    // The environment counts it.
    await page.getByTestId('nav-environments').click();
    await expect(page.getByTestId('env-production-active-keys')).toHaveText('1');
    await expect(page.getByTestId('env-sandbox-active-keys')).toHaveText('0');
    await shot(page, 'environments-with-key');

    // Back on the keys page the secret is gone for good; "last used" now has a time.
    await page.getByTestId('nav-api-keys').click();
    await expect(page.getByTestId('new-api-key-secret')).toHaveCount(0);
    await expect(page.locator('body')).not.toContainText(secret);
    await expect(row).not.toContainText('Never');

    await row.getByTestId('revoke-key').click();
    await expect(page.getByTestId('confirm-dialog')).toContainText('CRM sync (e2e)');
    await shot(page, 'api-key-revoke-confirm');
    await page.getByTestId('confirm-button').click();
    await expect(page.getByTestId('confirm-dialog')).toHaveCount(0);
    await expect(row.getByTestId('api-key-status')).toContainText('Revoked');
    await expect(row.getByTestId('revoke-key')).toHaveCount(0);
    await shot(page, 'api-key-revoked');

    const refused = await request.get('/api/v1/app/whoami', { headers: { Authorization: `Bearer ${secret}` } });
    expect(refused.status()).toBe(401);
    expect((await refused.json()).code).toBe('api_key_revoked');

    await page.getByTestId('nav-environments').click();
    await expect(page.getByTestId('env-production-active-keys')).toHaveText('0');
  });

  test('the audit log shows those changes, newest first', async ({ page }) => {
    await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.goto(`/t/${tenantId}/environments`);
    await page.getByTestId('nav-audit').click();
    await expect(page).toHaveURL(new RegExp(`/t/${tenantId}/audit$`));
    const rows = page.getByTestId('audit-row');
    await expect(rows.first()).toBeVisible();
    const actions = await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-action')));
    // connections.spec.ts connects CRMs in the demo tenant too; those entries are checked there.
    expect(actions.filter((action) => !action?.startsWith('connection.'))).toEqual([
      'api_key.revoked',
      'api_key.created',
      'user.removed',
      'user.created',
      'user.updated',
      'user.created',
      'tenant.created',
    ]);
    await expect(rows.first()).toContainText(ADMIN_EMAIL);
    await expect(rows.filter({ hasText: 'user.updated' })).toContainText('viewer → admin');
    await expect(rows.filter({ hasText: 'api_key.created' })).toContainText('CRM sync (e2e)');
    await expect(page.getByTestId('audit-end')).toBeVisible();
    await expect(page.getByTestId('audit-load-more')).toHaveCount(0);
    await shot(page, 'audit-log');
  });

  test('a long audit log loads page by page', async ({ page }) => {
    await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    // 30 keys created and revoked through the API: 60 more entries, more than one page of 50.
    const { csrf_token } = await (await page.request.get('/api/v1/auth/session')).json();
    // What is already there (this story's entries, and those of other specs in the demo tenant);
    // with the 60 new ones it must fit in the two pages the UI loads below.
    const existing = (await (await page.request.get(`/api/v1/tenants/${tenantId}/audit?limit=200`)).json()).entries
      .length as number;
    expect(existing).toBeLessThan(40);
    const headers = { 'X-CSRF-Token': csrf_token };
    for (let i = 1; i <= 30; i++) {
      const created = await page.request.post(`/api/v1/tenants/${tenantId}/api-keys`, {
        headers,
        data: { name: `bulk key ${i}`, environment: 'sandbox' },
      });
      expect(created.status()).toBe(201);
      const { key } = await created.json();
      const revoked = await page.request.post(`/api/v1/tenants/${tenantId}/api-keys/${key.id}/revoke`, { headers });
      expect(revoked.status()).toBe(200);
    }

    await page.goto(`/t/${tenantId}/audit`);
    const rows = page.getByTestId('audit-row');
    await expect(rows).toHaveCount(50);
    await expect(rows.first()).toContainText('bulk key 30');
    await expect(page.getByTestId('audit-end')).toHaveCount(0);
    await page.getByTestId('audit-load-more').click();
    await expect(rows).toHaveCount(existing + 60);
    await expect(rows.last()).toHaveAttribute('data-action', 'tenant.created');
    await expect(page.getByTestId('audit-end')).toBeVisible();
    await expect(page.getByTestId('audit-load-more')).toHaveCount(0);
    await shot(page, 'audit-log-all-pages');
  });
});
