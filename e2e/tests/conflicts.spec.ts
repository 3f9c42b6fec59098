import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, logIn, shot, test } from './fixtures';
import {
  appKey,
  connectHubspot,
  createTenant,
  csrfHeaders,
  editHubspotContact,
  firstRunSucceeded,
  hubspotContacts,
  push,
  runAndWait,
} from './sync-helpers';

// A conflict, in the browser: a contact syncs both ways between the app and HubSpot; its first
// name is then changed on both sides before the next run. That run's details show the conflict —
// the field, both values and which side won (the source, the app, by default) — and HubSpot ends
// up with the app's value.

const TENANT = { name: 'Conflict Works', slug: 'conflict-works' };
const ACCOUNT = `${TENANT.slug}-sandbox`;
const EMAIL = 'ada@conflict-works.example';

test('a field changed on both sides shows as a conflict in the run details', async ({ page }) => {
  test.setTimeout(120_000);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenant = await createTenant(page, TENANT);
  await connectHubspot(page, tenant.id);
  const key = await appKey(page, tenant.id);
  await push(page.request, key, [{ id: 'ada', data: { email: EMAIL, first_name: 'Ada', last_name: 'Lovelace' } }]);
  const connections = await (await page.request.get(`/api/v1/tenants/${tenant.id}/connections`)).json();
  const created = await page.request.post(`/api/v1/tenants/${tenant.id}/pipelines`, {
    headers: await csrfHeaders(page),
    data: {
      name: 'Contacts both ways',
      environment: 'sandbox',
      object: 'contact',
      source: { kind: 'app' },
      target: { kind: 'connection', connection_id: connections[0].id },
      direction: 'two_way',
      settings: { trigger: { webhooks: false, poll_every_minutes: 60, daily_reconciliation_at: null } },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const pipeline = await created.json();
  await firstRunSucceeded(page, tenant.id, pipeline.id);
  const [contact] = await hubspotContacts(page.request, ACCOUNT, EMAIL, ['email', 'firstname']);
  expect(contact.properties.firstname).toBe('Ada');

  // Both sides change the first name before the next run.
  await editHubspotContact(page.request, ACCOUNT, contact.id, { firstname: 'Augusta' });
  await push(page.request, key, [{ id: 'ada', data: { email: EMAIL, first_name: 'Countess', last_name: 'Lovelace' } }]);
  const run = await runAndWait(page, tenant.id, pipeline.id);
  expect(run.counts.conflicts).toBe(1);

  await page.goto(`/t/${tenant.id}/pipelines/${pipeline.id}`);
  await page.getByTestId('run-row').first().getByTestId('run-details').click();
  const row = page.locator('[data-testid="conflict-row"][data-field="first_name"]');
  await expect(row).toContainText('Countess');
  await expect(row).toContainText('Augusta');
  await expect(row).toContainText('source');
  await shot(page, 'run-conflict');

  // The app, the source, won: HubSpot has its value.
  await expect
    .poll(async () => (await hubspotContacts(page.request, ACCOUNT, EMAIL, ['firstname']))[0].properties.firstname)
    .toBe('Countess');
});
