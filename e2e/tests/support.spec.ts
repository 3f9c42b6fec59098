import { ADMIN_EMAIL, ADMIN_PASSWORD, addOperatorStaff, expect, freshPage, logIn, shot, test } from './fixtures';
import { appKey, connectHubspot, createTenant, csrfHeaders, hubspotContacts, push } from './sync-helpers';

// Support staff find a customer's problem across tenants and act on it: a search by email finds
// the failed record, which they replay (a reason is required) and then ignore with a reason —
// both in the audit log; a search by run id opens the run; by HubSpot's id, the linked record.
// No page they open shows a secret, and no setting can be changed from their role.

const TENANT = { name: 'Support Works', slug: 'support-works' };
const ACCOUNT = `${TENANT.slug}-sandbox`;
const SUPPORT = { email: 'sue.support@tandem.local', password: 'support-password-456' };

test('support search across tenants: find, read, replay and ignore with a reason, no secrets', async ({
  page,
  browser,
  errorWatch,
}) => {
  test.setTimeout(120_000);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenant = await createTenant(page, TENANT);
  await connectHubspot(page, tenant.id);
  const key = await appKey(page, tenant.id);
  await push(page.request, key, [
    { id: 'sup-ok', data: { email: 'okay@support-works.example', last_name: 'Fine' } },
    { id: 'sup-bad', data: { email: 'Broken@Support-Works.example', last_name: 'Broken', phone: 'call me' } },
  ]);
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
    },
  });
  expect(created.status()).toBe(201);
  const pipeline = await created.json();
  const runs = `/api/v1/tenants/${tenant.id}/pipelines/${pipeline.id}/runs`;
  await expect
    .poll(async () => ((await (await page.request.get(runs)).json()) as Array<{ status: string }>)[0]?.status, {
      timeout: 30_000,
    })
    .toBe('succeeded');
  const [run] = await (await page.request.get(runs)).json();
  const [inHubspot] = await hubspotContacts(page.request, ACCOUNT, 'okay@support-works.example');

  addOperatorStaff(SUPPORT.email, 'support', SUPPORT.password);
  const support = await freshPage(browser, errorWatch);
  await logIn(support, SUPPORT.email, SUPPORT.password);
  await support.getByTestId('nav-support').click();
  await expect(support).toHaveTitle('Support search · Tandem');
  await expect(support.getByTestId('empty-state')).toContainText("a customer's email");

  // By email, in any case: the app's record and its failure.
  await support.getByTestId('support-q').fill('broken@support-works.EXAMPLE');
  await support.getByTestId('support-q').press('Enter');
  const failedHit = support.locator('[data-testid="support-hit"][data-kind="failedrecord"]');
  await expect(failedHit).toContainText('Support Works');
  await expect(failedHit).toContainText('is not a phone number');
  await expect(support.locator('[data-testid="support-hit"][data-kind="apprecord"]')).toContainText('sup-bad');
  await shot(support, 'support-search');

  // To the failed record: replay needs a reason from support.
  await failedHit.getByRole('link', { name: 'Failed records for it' }).click();
  const record = support.getByTestId('failed-record');
  await expect(record).toHaveCount(1);
  await expect(record).toContainText('sup-bad');
  await record.getByRole('checkbox').check();
  await expect(support.getByTestId('replay-ticked')).toBeDisabled();
  await support.getByLabel('Reason (for the audit log)').fill('Customer asked on ticket 3141');
  await support.getByTestId('replay-ticked').click();
  await expect(support.getByText('1 record queued to sync again.')).toBeVisible();
  // Still a bad number: it fails again, and support ignores it, with a reason.
  await expect
    .poll(
      async () => {
        const list = await (await page.request.get(`/api/v1/tenants/${tenant.id}/failed-records?status=open`)).json();
        return list.length;
      },
      { timeout: 30_000 },
    )
    .toBe(1);
  await support.reload();
  await support.getByTestId('failed-record').getByRole('checkbox').check();
  await support.getByLabel('Reason (for the audit log)').fill('Test contact, ticket 3142');
  await support.getByTestId('ignore-ticked').click();
  await expect(support.getByText('1 record ignored.')).toBeVisible();

  // By run id: the run, its records and calls.
  await support.getByTestId('nav-support').click();
  await support.getByTestId('support-q').fill(run.id);
  await support.getByTestId('support-q').press('Enter');
  await support.locator('[data-testid="support-hit"][data-kind="run"]').getByRole('link', { name: 'Open the run' }).click();
  await expect(support.getByTestId('run-callouts')).toBeVisible();
  await shot(support, 'support-run');
  // No setting can be changed here: the settings are read-only and there is no Run now.
  await expect(support.getByTestId('save-settings')).toHaveCount(0);

  // By HubSpot's own id: the record it is linked to.
  await support.getByTestId('nav-support').click();
  await support.getByTestId('support-q').fill(inHubspot.id);
  await support.getByTestId('support-q').press('Enter');
  // HubSpot ids are per account: other tenants' portals may have the same one; this tenant's is linked to sup-ok.
  const crmHit = support.locator('[data-testid="support-hit"][data-kind="crmrecord"]').filter({ hasText: TENANT.name });
  await expect(crmHit).toContainText('sup-ok');

  // The reasons are in the tenant's audit log.
  await support.goto(`/t/${tenant.id}/audit`);
  await expect(support.getByTestId('audit-table')).toContainText('failed_records.replayed');
  await expect(support.getByTestId('audit-table')).toContainText('failed_records.ignored');

  // No page support opened shows the app's key or a token.
  for (const path of ['connections', 'api-keys', `pipelines/${pipeline.id}?run=${run.id}`, 'failed-records?status=ignored', 'audit']) {
    await support.goto(`/t/${tenant.id}/${path}`);
    await expect(support.getByTestId('loading')).toHaveCount(0);
    const html = await support.content();
    expect(html).not.toContain(key);
    expect(html).not.toMatch(/Bearer [A-Za-z0-9]/);
  }
});
