import type { APIRequestContext, Page } from '@playwright/test';

import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, freshPage, logIn, openDemoTenant, shot, test } from './fixtures';

// Connecting a CRM, end to end: the connections page, the CRM's consent page (for the demo
// tenant, Tandem's own HubSpot sandbox), the OAuth callback and back. Only HubSpot is driven
// here; the page itself treats every CRM of the catalogue alike.
//
// The demo tenant's sandbox environment uses the sandbox account `demo-sandbox`, which tests
// revoke and expire tokens of through the sandbox's control API.

const SANDBOX_CONTROL = '/sandbox/_control/hubspot/accounts/demo-sandbox';

/** Asks the server for the CSRF token of the page's session, for writes made with `page.request`. */
async function csrfHeaders(page: Page): Promise<Record<string, string>> {
  const session = await page.request.get('/api/v1/auth/session');
  expect(session.status()).toBe(200);
  const { csrf_token } = await session.json();
  return { 'X-CSRF-Token': csrf_token };
}

async function sandboxControl(request: APIRequestContext, action: 'revoke' | 'expire') {
  const response = await request.post(`${SANDBOX_CONTROL}/tokens/${action}`);
  expect(response.status(), `POST ${SANDBOX_CONTROL}/tokens/${action}`).toBe(200);
}

/** A screenshot from the top of the page (clicks further down scroll it, and the header is sticky). */
async function shotFromTop(page: Page, name: string) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, name);
}

function card(page: Page, provider: string) {
  return page.locator(`[data-testid="provider-card"][data-provider="${provider}"]`);
}

test.describe.serial('connecting the demo tenant to the HubSpot sandbox', () => {
  let tenantId = '';

  test('the catalogue lists eight CRMs per environment; denying consent connects nothing', async ({
    page,
    errorWatch,
  }) => {
    // The callback answers 400 when consent was denied.
    errorWatch.allow('/api/v1/oauth/callback', 400);
    await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    tenantId = await openDemoTenant(page);

    await page.getByTestId('nav-connections').click();
    await expect(page).toHaveURL(new RegExp(`/t/${tenantId}/connections$`));
    await expect(page).toHaveTitle('Connections · Tandem');
    await expect(page.getByTestId('nav-connections')).toHaveAttribute('aria-current', 'page');
    // Sandbox is the environment shown first.
    await expect(page.getByTestId('env-tab-sandbox')).toHaveAttribute('aria-current', 'page');
    await expect(page.getByTestId('environment-hint')).toContainText('Demo tenants connect both environments');

    const cards = page.getByTestId('provider-card');
    await expect(cards).toHaveCount(8);
    const hubspot = card(page, 'hubspot');
    await expect(hubspot).toHaveAttribute('data-state', 'not-connected');
    await expect(hubspot).toContainText('HubSpot');
    await expect(hubspot).toContainText('Contacts, Companies, Deals');
    await expect(hubspot.getByTestId('webhooks')).toHaveText('Yes');
    await expect(hubspot.getByTestId('connect-button')).toBeVisible();
    // CRMs that are not available yet say so and offer no button.
    const comingSoon = page.getByTestId('coming-soon-providers').getByTestId('provider-card');
    expect(await comingSoon.count()).toBeGreaterThan(0);
    for (const unavailable of await comingSoon.all()) {
      await expect(unavailable).toHaveAttribute('data-state', 'coming-soon');
      await expect(unavailable).toContainText('Coming soon');
      await expect(unavailable.getByRole('button')).toHaveCount(0);
    }
    await shotFromTop(page, 'connections-catalogue');

    // The environment is part of the address.
    await page.getByTestId('env-tab-production').click();
    await expect(page).toHaveURL(new RegExp(`/t/${tenantId}/connections\\?environment=production$`));
    await expect(page.getByTestId('env-tab-production')).toHaveAttribute('aria-current', 'page');
    await expect(card(page, 'hubspot')).toContainText('Not connected in the Production environment.');
    await page.reload();
    await expect(page.getByTestId('env-tab-production')).toHaveAttribute('aria-current', 'page');
    await page.getByTestId('env-tab-sandbox').click();
    await expect(page.getByTestId('env-tab-sandbox')).toHaveAttribute('aria-current', 'page');

    // To the consent page, and Deny.
    await card(page, 'hubspot').getByTestId('connect-button').click();
    await expect(page).toHaveURL(/\/sandbox\/hubspot\/demo-sandbox\/oauth\/authorize\?/);
    await expect(page.getByRole('button', { name: 'Approve' })).toBeVisible();
    await shotFromTop(page, 'connections-consent-page');
    await page.getByRole('button', { name: 'Deny' }).click();

    const result = page.getByTestId('oauth-result');
    await expect(result).toContainText('The connection was not made');
    await expect(result).toContainText('Access was denied at HubSpot');
    await expect(page).toHaveURL(/\/api\/v1\/oauth\/callback\?/);
    await shotFromTop(page, 'connections-consent-denied');

    // Nothing was connected.
    await result.getByRole('link', { name: 'Back to Tandem' }).click();
    await page.goto(`/t/${tenantId}/connections?environment=sandbox`);
    await expect(card(page, 'hubspot')).toHaveAttribute('data-state', 'not-connected');
    await expect(card(page, 'hubspot').getByTestId('connect-button')).toBeVisible();
    const listed = await page.request.get(`/api/v1/tenants/${tenantId}/connections`);
    expect(await listed.json()).toEqual([]);
  });

  test('Connect, Approve, and back: the account is connected and Test connection succeeds', async ({ page }) => {
    await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.goto(`/t/${tenantId}/connections`);
    const hubspot = card(page, 'hubspot');
    await hubspot.getByTestId('connect-button').click();
    await expect(page).toHaveURL(/\/sandbox\/hubspot\/demo-sandbox\/oauth\/authorize\?/);
    await page.getByRole('button', { name: 'Approve' }).click();

    // The callback page returns to the connections page, which says what was connected.
    await expect(page).toHaveURL(new RegExp(`/t/${tenantId}/connections\\?environment=sandbox$`));
    const notice = page.getByTestId('connected-notice');
    await expect(notice).toContainText(/HubSpot connected: \S/);
    await expect(hubspot).toHaveAttribute('data-state', 'connected');
    const accountName = ((await hubspot.getByTestId('account-name').locator('strong').textContent()) ?? '').trim();
    expect(accountName.length).toBeGreaterThan(0);
    await expect(notice).toContainText(`HubSpot connected: ${accountName}`);
    await expect(hubspot.getByTestId('connection-status')).toHaveText('Healthy');
    await expect(hubspot.getByTestId('connection-target')).toContainText('Sandbox CRM');
    await expect(hubspot).toContainText(`by ${ADMIN_EMAIL}`);
    await expect(page.getByTestId('env-tab-sandbox')).toContainText('1 connected');
    // The other environment is separate.
    await expect(page.getByTestId('env-tab-production')).not.toContainText('connected');
    await shotFromTop(page, 'connections-connected');

    await hubspot.getByTestId('test-button').click();
    const check = hubspot.getByTestId('check-result');
    await expect(check).toHaveAttribute('data-ok', 'true');
    await expect(check).toContainText('Connection works');
    await expect(check).toContainText(accountName);
    await expect(check).toContainText(/\(\d+ ms\)/);
    await expect(hubspot.getByTestId('last-check')).toContainText('UTC');
    await shotFromTop(page, 'connections-test-ok');

    // The notice goes away when dismissed, and a reload does not bring it back.
    await notice.getByTestId('dismiss-notice').click();
    await expect(notice).toHaveCount(0);
    await page.reload();
    await expect(hubspot.getByTestId('connection-status')).toHaveText('Healthy');
    await expect(page.getByTestId('connected-notice')).toHaveCount(0);
  });

  test('access revoked at HubSpot: Test connection shows Needs re-auth; Reconnect makes it healthy', async ({
    page,
    request,
  }) => {
    await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.goto(`/t/${tenantId}/connections?environment=sandbox`);
    const hubspot = card(page, 'hubspot');
    await expect(hubspot.getByTestId('connection-status')).toHaveText('Healthy');

    // The customer uninstalls the app in HubSpot; the access token has run out too.
    await sandboxControl(request, 'revoke');
    await sandboxControl(request, 'expire');

    await hubspot.getByTestId('test-button').click();
    const check = hubspot.getByTestId('check-result');
    await expect(check).toHaveAttribute('data-ok', 'false');
    await expect(check).toContainText('Connection failed');
    await expect(hubspot.getByTestId('connection-status')).toHaveText('Needs re-auth');
    await expect(hubspot.getByTestId('status-note')).toContainText('HubSpot no longer accepts Tandem');
    // Reconnecting is now the thing to do, and the most prominent button.
    const reconnect = hubspot.getByTestId('reconnect-button');
    await expect(reconnect).toHaveClass(/primary/);
    await shotFromTop(page, 'connections-needs-reauth');

    // The status is stored: a reload shows it too.
    await page.reload();
    await expect(hubspot.getByTestId('connection-status')).toHaveText('Needs re-auth');

    await reconnect.click();
    await expect(page).toHaveURL(/\/sandbox\/hubspot\/demo-sandbox\/oauth\/authorize\?/);
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect(page).toHaveURL(new RegExp(`/t/${tenantId}/connections\\?environment=sandbox$`));
    await expect(page.getByTestId('connected-notice')).toContainText('HubSpot connected:');
    await expect(hubspot.getByTestId('connection-status')).toHaveText('Healthy');
    await expect(hubspot.getByTestId('status-note')).toHaveCount(0);
    await hubspot.getByTestId('test-button').click();
    await expect(hubspot.getByTestId('check-result')).toHaveAttribute('data-ok', 'true');
    await shotFromTop(page, 'connections-reconnected');
  });

  test('the page stays readable at tablet width', async ({ page }) => {
    await page.setViewportSize({ width: 820, height: 1180 });
    await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.goto(`/t/${tenantId}/connections?environment=sandbox`);
    const hubspot = card(page, 'hubspot');
    await expect(hubspot.getByTestId('connection-status')).toHaveText('Healthy');
    // Nothing runs off the side of the page.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shotFromTop(page, 'connections-tablet');
  });

  test('Disconnect asks first, revokes at HubSpot and offers Connect again', async ({ page }) => {
    await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.goto(`/t/${tenantId}/connections?environment=sandbox`);
    const hubspot = card(page, 'hubspot');
    await hubspot.getByTestId('disconnect-button').click();
    const dialog = page.getByTestId('confirm-dialog');
    await expect(dialog).toContainText('Disconnect HubSpot');
    await expect(dialog).toContainText('revokes its access at HubSpot');
    await expect(dialog).toContainText('Sandbox environment');
    await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
    await shotFromTop(page, 'connections-disconnect-confirm');
    // Escape keeps the connection.
    await page.keyboard.press('Escape');
    await expect(dialog).toHaveCount(0);
    await expect(hubspot).toHaveAttribute('data-state', 'connected');

    await hubspot.getByTestId('disconnect-button').click();
    await page.getByTestId('confirm-button').click();
    await expect(dialog).toHaveCount(0);
    await expect(hubspot).toHaveAttribute('data-state', 'not-connected');
    await expect(hubspot.getByTestId('connect-button')).toBeVisible();
    await expect(page.getByTestId('env-tab-sandbox')).not.toContainText('connected');
    await shotFromTop(page, 'connections-disconnected');
    expect(await (await page.request.get(`/api/v1/tenants/${tenantId}/connections`)).json()).toEqual([]);

    // The audit log has the whole story.
    await page.getByTestId('nav-audit').click();
    // Read once the log has loaded (evaluateAll does not wait for rows to appear).
    await expect
      .poll(async () => {
        const actions = await page
          .getByTestId('audit-row')
          .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-action')));
        return actions.filter((action) => action?.startsWith('connection.'));
      })
      .toEqual(['connection.disconnected', 'connection.reconnected', 'connection.needs_reauth', 'connection.connected']);
    // Disconnecting gave the grant back at HubSpot.
    await expect(page.getByTestId('audit-row').filter({ hasText: 'connection.disconnected' })).toContainText(
      'revoked at the CRM',
    );
  });
});

test('production in a customer tenant says it is not set up; viewers see no buttons', async ({
  page,
  browser,
  errorWatch,
}) => {
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const headers = await csrfHeaders(page);
  const created = await page.request.post('/api/v1/tenants', {
    headers,
    data: { name: 'Northwind Traders', slug: 'northwind', is_demo: false },
  });
  expect(created.status()).toBe(201);
  const tenant = await created.json();
  errorWatch.allow(`/api/v1/tenants/${tenant.id}/connections/authorize`, 409);

  await page.goto(`/t/${tenant.id}/connections?environment=production`);
  await expect(page.getByTestId('tenant-name')).toHaveText('Northwind Traders');
  await expect(page.getByTestId('environment-hint')).toContainText("tenant's real CRM accounts");
  const hubspot = card(page, 'hubspot');
  // The keyboard works as well as the mouse.
  await hubspot.getByTestId('connect-button').focus();
  await page.keyboard.press('Enter');
  const problem = hubspot.getByTestId('connect-error');
  await expect(problem).toContainText('Not set up for this environment');
  await expect(problem).toContainText(
    'HubSpot is not set up for production: the operator must register an app with HubSpot and set ' +
      'TANDEM_CRM__HUBSPOT__PRODUCTION__CLIENT_ID and …__CLIENT_SECRET.',
  );
  // Nothing happened: still on the page, still not connected, and the button can be tried again.
  await expect(page).toHaveURL(new RegExp(`/t/${tenant.id}/connections\\?environment=production$`));
  await expect(hubspot).toHaveAttribute('data-state', 'not-connected');
  await expect(hubspot.getByTestId('connect-button')).toBeEnabled();
  await shotFromTop(page, 'connections-production-not-set-up');

  // A viewer of that tenant reads the page but has nothing to press.
  const viewer = { email: 'nora.viewer@northwind.example', password: 'viewer-password-456' };
  const user = await page.request.post(`/api/v1/tenants/${tenant.id}/users`, {
    headers,
    data: { email: viewer.email, name: 'Nora Viewer', role: 'viewer', password: viewer.password },
  });
  expect(user.status()).toBe(201);
  const viewerPage = await freshPage(browser, errorWatch);
  await logIn(viewerPage, viewer.email, viewer.password);
  await viewerPage.getByTestId('nav-connections').click();
  await expect(viewerPage).toHaveURL(new RegExp(`/t/${tenant.id}/connections$`));
  await expect(viewerPage.getByTestId('read-only-note')).toContainText('Viewers can look but not change anything');
  await expect(viewerPage.getByTestId('connections-read-only')).toBeVisible();
  await expect(viewerPage.getByTestId('provider-card')).toHaveCount(8);
  await expect(viewerPage.getByTestId('provider-card').getByRole('button')).toHaveCount(0);
  await expect(card(viewerPage, 'hubspot')).toContainText('Not connected in the Sandbox environment.');
  await shotFromTop(viewerPage, 'connections-viewer');
  await viewerPage.context().close();
});

test('a list that fails to load says so, and Retry recovers', async ({ page, errorWatch }) => {
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenantId = await openDemoTenant(page);
  const listUrl = `**/api/v1/tenants/${tenantId}/connections`;
  errorWatch.allow(`/api/v1/tenants/${tenantId}/connections`, 500);

  // A slow answer first: the page says it is loading.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(listUrl, async (route) => {
    await held;
    await route.fulfill({
      status: 500,
      contentType: 'application/json',
      body: JSON.stringify({ code: 'internal', message: 'an internal error occurred', request_id: 'e2e-connections' }),
    });
  });
  await page.getByTestId('nav-connections').click();
  await expect(page.getByTestId('loading')).toHaveText('Loading connections…');
  release();

  const banner = page.getByTestId('error-banner');
  await expect(banner).toContainText('Could not load connections:');
  await expect(banner).toContainText('e2e-connections');
  await expect(page.getByTestId('provider-card')).toHaveCount(0);
  await shotFromTop(page, 'connections-load-error');

  await page.unroute(listUrl);
  await page.getByTestId('retry-button').click();
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  await expect(page.getByTestId('provider-card')).toHaveCount(8);
});

test('Salesforce connects through its own consent page, with PKCE, in the demo production environment', async ({ page }) => {
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const demo = await openDemoTenant(page);
  await page.goto(`/t/${demo}/connections?environment=production`);
  const salesforce = card(page, 'salesforce');
  await expect(salesforce).toHaveAttribute('data-state', 'not-connected');
  await salesforce.getByTestId('connect-button').click();
  // Demo tenants reach Tandem's Salesforce sandbox even in production; the request carries PKCE.
  await expect(page).toHaveURL(/\/sandbox\/salesforce\/demo-production\/services\/oauth2\/authorize\?.*code_challenge=/);
  await expect(page.getByText('Salesforce sandbox')).toBeVisible();
  await shot(page, 'connections-salesforce-consent');
  await page.getByRole('button', { name: 'Approve' }).click();

  await expect(page).toHaveURL(new RegExp(`/t/${demo}/connections\\?environment=production$`));
  await expect(page.getByTestId('connected-notice')).toContainText(/Salesforce connected: \S/);
  await expect(salesforce).toHaveAttribute('data-state', 'connected');
  await expect(salesforce.getByTestId('connection-status')).toHaveText('Healthy');
  await expect(salesforce.getByTestId('account-name')).toContainText('demo-production');
  await salesforce.getByTestId('test-button').click();
  await expect(salesforce.getByTestId('check-result')).toHaveAttribute('data-ok', 'true');
  await shotFromTop(page, 'connections-salesforce-connected');
});
