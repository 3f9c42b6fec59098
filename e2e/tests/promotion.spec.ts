import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, logIn, shot, test } from './fixtures';
import { connectHubspot, createTenant, csrfHeaders } from './sync-helpers';

// Sandbox and production side by side: a pipeline built in the sandbox cannot go to production
// until HubSpot is connected there (the page says so); then the plan shows what promoting
// creates, field by field, and promoting applies exactly that. A demo tenant, so that production
// talks to the sandbox CRMs too.

const TENANT = { name: 'Promotion Works', slug: 'promotion-works' };

test('environments: the promotion plan, blocked then promoted after a diff', async ({ page }) => {
  test.setTimeout(90_000);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenant = await createTenant(page, TENANT, true);
  await connectHubspot(page, tenant.id);
  const connections = await (await page.request.get(`/api/v1/tenants/${tenant.id}/connections`)).json();
  const created = await page.request.post(`/api/v1/tenants/${tenant.id}/pipelines`, {
    headers: await csrfHeaders(page),
    data: {
      name: 'Contacts to HubSpot',
      environment: 'sandbox',
      object: 'contact',
      source: { kind: 'app' },
      target: { kind: 'connection', connection_id: connections[0].id },
      direction: 'one_way',
      start_paused: true,
    },
  });
  expect(created.status(), await created.text()).toBe(201);

  // Not connected in production yet: blocked, saying what to do.
  await page.goto(`/t/${tenant.id}/environments`);
  await expect(page.getByTestId('env-sandbox')).toBeVisible();
  await expect(page.getByTestId('env-production')).toBeVisible();
  const item = page.getByTestId('promotion-item');
  await expect(item).toHaveAttribute('data-action', 'blocked');
  await expect(item.getByTestId('promotion-problems')).toContainText('connect HubSpot in production');
  await expect(page.getByTestId('promote')).toBeDisabled();
  await shot(page, 'promotion-blocked');

  // Connected there: the plan creates it, each setting and mapping rule shown before anything moves.
  await connectHubspot(page, tenant.id, 'production');
  await page.getByTestId('nav-environments').click();
  await expect(item).toHaveAttribute('data-action', 'create');
  const email = item.locator('[data-testid="promotion-change"][data-path="mapping.forward.fields.email.source"]');
  await expect(email.locator('.diff-old')).toHaveText('—');
  await expect(email.locator('.diff-new')).toHaveText('email');
  await expect(item.getByRole('checkbox')).toBeChecked();
  await shot(page, 'promotion-plan');
  await page.getByTestId('promote').click();
  await expect(page.getByTestId('promoted')).toContainText('1 created and 0 updated in production');
  await expect(item).toHaveAttribute('data-action', 'unchanged');

  // In production now.
  await page.goto(`/t/${tenant.id}/pipelines?environment=production`);
  await expect(page.getByTestId('pipeline-card')).toContainText('Contacts to HubSpot');
});
