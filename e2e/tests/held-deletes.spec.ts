import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, logIn, shot, test } from './fixtures';
import {
  appContact,
  appKey,
  archiveHubspotContacts,
  connectHubspot,
  createTenant,
  csrfHeaders,
  firstRunSucceeded,
  hubspotListContacts,
  runAndWait,
} from './sync-helpers';

// Held deletions, in the browser: contacts flow from HubSpot to the app with deletions passed on,
// but never more than three at once without asking. Someone deletes five contacts in HubSpot; the
// next run holds them; on the pipeline's page an admin approves one (the app's copy is deleted)
// and rejects the rest (the app keeps them), then reconciles: nothing was missed.

const TENANT = { name: 'Held Works', slug: 'held-works' };
const ACCOUNT = `${TENANT.slug}-sandbox`;

test('mass deletions wait for approval: approve one, reject the rest', async ({ page }) => {
  test.setTimeout(120_000);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenant = await createTenant(page, TENANT);
  await connectHubspot(page, tenant.id);
  const key = await appKey(page, tenant.id);
  const connections = await (await page.request.get(`/api/v1/tenants/${tenant.id}/connections`)).json();
  const created = await page.request.post(`/api/v1/tenants/${tenant.id}/pipelines`, {
    headers: await csrfHeaders(page),
    data: {
      name: 'Contacts from HubSpot',
      environment: 'sandbox',
      object: 'contact',
      source: { kind: 'connection', connection_id: connections[0].id },
      target: { kind: 'app' },
      direction: 'one_way',
      settings: {
        trigger: { webhooks: false, poll_every_minutes: 60, daily_reconciliation_at: null },
        deletes: { propagate: true, hold_above_count: 3, hold_above_share: null },
      },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const pipeline = await created.json();
  // The first run brings HubSpot's contacts to the app.
  await firstRunSucceeded(page, tenant.id, pipeline.id);

  const doomed = (await hubspotListContacts(page.request, ACCOUNT, 5)).map((c) => c.id);
  expect(doomed).toHaveLength(5);
  for (const id of doomed) {
    expect((await appContact(page.request, key, `hubspot-${id}`)).deleted).toBe(false);
  }
  await archiveHubspotContacts(page.request, ACCOUNT, doomed);
  const run = await runAndWait(page, tenant.id, pipeline.id);
  expect(run.counts.held).toBe(5);
  expect(run.counts.deleted).toBe(0);

  await page.goto(`/t/${tenant.id}/pipelines/${pipeline.id}`);
  const held = page.getByTestId('held-deletes');
  await expect(held).toContainText('5 records were deleted on one side in one go');
  const items = held.getByTestId('held-delete');
  await expect(items).toHaveCount(5);
  await shot(page, 'held-deletes');

  // Approve the first (by keyboard), then reject the rest.
  const first = items.filter({ hasText: doomed[0] });
  await first.getByRole('button', { name: `Approve deleting ${doomed[0]}` }).focus();
  await page.keyboard.press('Enter');
  await expect(items).toHaveCount(4);
  await held.getByTestId('reject-all').click();
  await expect(held).toHaveCount(0);

  // On the app's side: the approved deletion happened, the rejected ones did not.
  await expect
    .poll(async () => (await appContact(page.request, key, `hubspot-${doomed[0]}`)).deleted, { timeout: 30_000 })
    .toBe(true);
  for (const id of doomed.slice(1)) {
    expect((await appContact(page.request, key, `hubspot-${id}`)).deleted).toBe(false);
  }
  // The audit log has both decisions.
  await page.getByTestId('nav-audit').click();
  await expect(page.locator('[data-testid="audit-row"][data-action="held_deletes.approved"]')).toHaveCount(1);
  await expect(page.locator('[data-testid="audit-row"][data-action="held_deletes.rejected"]')).toHaveCount(1);

  // Proof that nothing was missed: a reconciliation started from the pipeline's page compares
  // HubSpot's counts with what was read; its outcome shows on the page and on its run.
  await page.goto(`/t/${tenant.id}/pipelines/${pipeline.id}`);
  await page.getByTestId('reconcile-now').click();
  await expect(page.getByTestId('reconcile-started')).toBeVisible();
  const reconciled = page.getByTestId('last-reconciliation');
  await expect(reconciled).toHaveAttribute('data-proven', 'true', { timeout: 30_000 });
  await expect(reconciled).toContainText(/HubSpot holds \d+ records; every one was read\./);
  await expect(page.locator('[data-testid="run-row"][data-status="succeeded"]').first().getByTestId('run-reconciliation'))
    .toContainText('every one was read');
  await shot(page, 'reconciliation');
});
