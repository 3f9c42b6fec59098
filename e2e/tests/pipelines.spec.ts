import type { Page } from '@playwright/test';

import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, logIn, shot, test } from './fixtures';
import { csrfHeaders, hubspotContacts, push } from './sync-helpers';

// From the app to HubSpot and back to a fix, in the browser: a tenant connects the HubSpot
// sandbox, creates a pipeline on the Pipelines page, watches its first run in the sync history
// (a record with a bad phone number fails), finds that record in Failed records with its
// payloads and reason, fixes the data, replays it, and finds the contact in the HubSpot sandbox.

const TENANT = { name: 'Pipeline Works', slug: 'pipeline-works' };
const ACCOUNT = `${TENANT.slug}-sandbox`;

async function shotFromTop(page: Page, name: string) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, name);
}

test('a pipeline from the app to HubSpot: create, watch the run, fix and replay a failed record', async ({
  page,
  errorWatch,
}) => {
  test.setTimeout(120_000);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const headers = await csrfHeaders(page);
  const created = await page.request.post('/api/v1/tenants', { headers, data: { ...TENANT, is_demo: false } });
  expect(created.status()).toBe(201);
  const tenant = await created.json();

  // No connection yet: the page says to connect a CRM first.
  await page.goto(`/t/${tenant.id}/pipelines`);
  await expect(page).toHaveTitle('Pipelines · Tandem');
  await expect(page.getByTestId('nav-pipelines')).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('empty-state').first()).toContainText('No pipelines in Sandbox yet');
  await expect(page.getByRole('link', { name: 'Go to connections' })).toBeVisible();
  await shotFromTop(page, 'pipelines-no-connection');

  // Connect the HubSpot sandbox through its consent page.
  await page.getByRole('link', { name: 'Go to connections' }).click();
  await page
    .locator('[data-testid="provider-card"][data-provider="hubspot"]')
    .getByTestId('connect-button')
    .click();
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByTestId('connected-notice')).toContainText('HubSpot connected');

  // The app pushes five contacts; one phone number is not a number.
  const key = await page.request.post(`/api/v1/tenants/${tenant.id}/api-keys`, {
    headers,
    data: { name: 'app', environment: 'sandbox' },
  });
  expect(key.status()).toBe(201);
  const { secret } = await key.json();
  const people = ['ada', 'grace', 'alan', 'edsger', 'barbara'];
  await push(
    page.request,
    secret,
    people.map((name, i) => ({
      id: `crm-e2e-${name}`,
      data: {
        email: `${name}@pipeline-works.example`,
        first_name: name[0].toUpperCase() + name.slice(1),
        last_name: 'Tester',
        phone: i === 2 ? 'call me' : `+49 30 123456${i}`,
      },
    })),
  );

  // Create the pipeline on the Pipelines page.
  await page.getByTestId('nav-pipelines').click();
  const form = page.getByTestId('new-pipeline-form');
  await form.getByLabel('Name').fill('Contacts to HubSpot');
  await form.getByLabel('Records').selectOption('contact');
  await expect(form.getByLabel('CRM')).toContainText('HubSpot');
  await form.getByLabel('Direction').selectOption('app_to_crm');
  await shotFromTop(page, 'pipelines-new-form');
  await form.getByTestId('create-pipeline').click();
  await expect(page.getByTestId('pipeline-created')).toContainText('Contacts to HubSpot created');
  const card = page.getByTestId('pipeline-card');
  await expect(card).toHaveCount(1);
  await expect(card).toContainText('The app → HubSpot');
  await expect(card.getByTestId('pipeline-status')).toHaveText('Active');

  // Its history: the first run, 4 created and 1 failed.
  await card.getByTestId('history-link').click();
  await expect(page).toHaveURL(new RegExp(`/t/${tenant.id}/pipelines/[0-9a-f-]{36}$`));
  await expect(page.getByTestId('pipeline-name')).toHaveText('Contacts to HubSpot');
  const first = page.getByTestId('run-row').first();
  await expect(first).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  await expect(first.getByTestId('count-created')).toHaveText('4');
  await expect(first.getByTestId('count-failed')).toHaveText('1');
  // Today's bar of the per-day chart holds the run: 4 synced, 1 failed.
  const today = page.getByTestId('daily-bar').last();
  await expect(today).toHaveAttribute('data-synced', '4');
  await expect(today).toHaveAttribute('data-failed', '1');
  await expect(page.getByTestId('daily-bar')).toHaveCount(14);
  await first.getByTestId('run-details').click();
  await expect(page.getByTestId('no-conflicts')).toBeVisible();
  await expect(page.getByTestId('run-event').filter({ hasText: 'crm-e2e-alan' })).toHaveAttribute(
    'data-outcome',
    'failed',
  );
  await expect(page.locator('[data-testid="run-event"][data-outcome="created"]')).toHaveCount(4);
  // Its calls to HubSpot, with their attempt numbers; no token in any path.
  await expect(page.getByTestId('callout-summary')).toContainText(/\d+ calls, \d+ of them retries/);
  await expect(page.getByTestId('callout').filter({ hasText: 'POST /crm/v3/objects/contacts/batch/upsert' })).toHaveCount(1);
  await expect(page.getByTestId('run-callouts')).not.toContainText(/pat-|Bearer/);
  await shotFromTop(page, 'pipeline-history');
  expect(await hubspotContacts(page.request, ACCOUNT, 'ada@pipeline-works.example')).toHaveLength(1);

  // Failed records: the reason in plain words, the field, the payloads.
  await page.getByTestId('nav-failed-records').click();
  await expect(page).toHaveTitle('Failed records · Tandem');
  const failed = page.getByTestId('failed-record');
  await expect(failed).toHaveCount(1);
  // Filtered by object and by when it failed.
  await page.getByTestId('object-filter').selectOption('deal');
  await expect(page.getByTestId('empty-state')).toContainText('No failed records match these filters.');
  await page.getByTestId('object-filter').selectOption('contact');
  await page.getByTestId('time-filter').selectOption({ label: 'In the last hour' });
  await expect(failed).toHaveCount(1);
  await page.getByTestId('time-filter').selectOption({ label: 'Any time' });
  await page.getByTestId('object-filter').selectOption({ label: 'Any' });
  await expect(failed).toHaveCount(1);
  await expect(failed).toContainText('crm-e2e-alan');
  await expect(failed.getByTestId('failure-explained')).toContainText('could not be mapped');
  await expect(failed.getByTestId('failure-message')).toContainText('phone');
  await failed.getByTestId('toggle-details').click();
  await expect(failed.getByTestId('source-payload')).toContainText('call me');
  await expect(failed.getByTestId('crm-error')).toContainText('before any call');
  await shotFromTop(page, 'failed-records');

  // The app fixes the number; Replay sends it again.
  await push(page.request, secret, [
    {
      id: 'crm-e2e-alan',
      data: {
        email: 'alan@pipeline-works.example',
        first_name: 'Alan',
        last_name: 'Tester',
        phone: '+49 30 1234562',
      },
    },
  ]);
  await failed.getByTestId('replay-one').click();
  await expect(page.getByTestId('acted')).toHaveText('1 record queued to sync again.');
  await expect(page.getByTestId('empty-state')).toContainText('No failed records', { timeout: 30_000 });
  // Once it synced, it is resolved (the page reads again by itself while records replay).
  await expect(page.getByTestId('replaying')).toHaveCount(0, { timeout: 30_000 });
  await page.getByLabel('Status').selectOption('resolved');
  await expect(page.getByTestId('failed-record')).toHaveCount(1);
  await shotFromTop(page, 'failed-records-resolved');
  await expect
    .poll(async () => (await hubspotContacts(page.request, ACCOUNT, 'alan@pipeline-works.example')).length, {
      timeout: 30_000,
    })
    .toBe(1);

  // Pause and resume from the pipelines page.
  await page.getByTestId('nav-pipelines').click();
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('pipeline-status')).toHaveText('Paused');
  await shotFromTop(page, 'pipelines-paused');
  await page.getByTestId('resume').click();
  await expect(page.getByTestId('pipeline-status')).toHaveText('Active');
  await expect(page.getByTestId('last-run')).toContainText('succeeded');

  // Eleven more with bad numbers, pushed while the history page is open: their run shows up
  // there as it happens (server-sent events, no reload), and so many failures pause the
  // pipeline and raise an alert.
  await page.getByTestId('history-link').click();
  await expect(page.getByTestId('run-row').first()).toBeVisible();
  await push(
    page.request,
    secret,
    Array.from({ length: 11 }, (_, i) => ({
      id: `crm-e2e-bad-${i}`,
      data: { email: `bad${i}@pipeline-works.example`, last_name: 'Bad', phone: 'no number' },
    })),
  );
  const pipelineId = /pipelines\/([0-9a-f-]{36})$/.exec(page.url())![1];
  const started = await page.request.post(`/api/v1/tenants/${tenant.id}/pipelines/${pipelineId}/run`, {
    headers,
    data: {},
  });
  // 409 when the poll that follows Resume got there first and paused it already.
  expect([202, 409]).toContain(started.status());
  const failing = page
    .getByTestId('run-row')
    .filter({ has: page.getByTestId('count-failed').getByText('11', { exact: true }) });
  await expect(failing).toHaveCount(1, { timeout: 30_000 });
  await expect(failing).toHaveAttribute('data-status', 'succeeded');
  await expect(page.getByTestId('pipeline-header-status')).toHaveText('Paused');
  await shotFromTop(page, 'pipeline-history-live');

  await page.getByTestId('nav-pipelines').click();
  await expect(page.getByTestId('pipeline-status')).toHaveText('Paused');
  await expect(page.getByTestId('status-reason')).toContainText(/11 of \d+ records failed/);
  await page.getByTestId('nav-alerts').click();
  await expect(page).toHaveTitle('Alerts · Tandem');
  const alert = page.locator('[data-testid="alert"][data-kind="failure_rate"]');
  await expect(alert).toContainText('Pipeline paused: too many failures');
  await expect(alert.getByTestId('alert-message')).toContainText(/11 of \d+/);
  await shotFromTop(page, 'alerts');
  await alert.getByTestId('acknowledge').click();
  await expect(alert).toHaveAttribute('data-open', 'false');

  // Where alerts go: an address added (its signing secret shown once), listed, removed.
  const destinations = page.getByTestId('alert-destinations');
  await expect(destinations.getByTestId('empty-state')).toContainText('add an address');
  await destinations.getByLabel('Send alerts to').fill('https://ops.pipeline-works.example/tandem-alerts');
  await destinations.getByTestId('add-endpoint').click();
  await expect(destinations.getByTestId('endpoint-secret')).toContainText('whsec_');
  await expect(destinations.getByTestId('alert-endpoint')).toContainText('https://ops.pipeline-works.example/tandem-alerts');
  await shotFromTop(page, 'alerts-destinations');
  await destinations.getByTestId('remove-endpoint').click();
  await expect(destinations.getByTestId('alert-endpoint')).toHaveCount(0);

  // Settings: a bad value is refused naming the field; good ones are kept.
  errorWatch.allow(`/api/v1/tenants/${tenant.id}/pipelines/${pipelineId}`, 400);
  await alert.getByRole('link', { name: 'Open the pipeline' }).click();
  const settings = page.getByTestId('settings-form');
  await settings.getByLabel('Poll every (minutes)').fill('often');
  await settings.getByTestId('save-settings').click();
  await expect(page.getByTestId('settings-problem')).toContainText('Poll every (minutes): "often" is not a number');
  await settings.getByLabel('Poll every (minutes)').fill('0');
  await settings.getByTestId('save-settings').click();
  await expect(settings.getByTestId('error-banner')).toContainText('0 is not between 1 and 1440 minutes');
  await settings.getByLabel('Poll every (minutes)').fill('15');
  await settings.getByLabel('Daily reconciliation at (UTC)').fill('02:30');
  await settings.getByLabel('Hold deletions above (records)').fill('50');
  await settings.getByLabel('A record to create already exists').selectOption('merge_target');
  await settings.getByTestId('save-settings').click();
  await expect(page.getByTestId('settings-saved')).toBeVisible();
  await shotFromTop(page, 'pipeline-settings');
  await page.reload();
  await expect(settings.getByLabel('Poll every (minutes)')).toHaveValue('15');
  await expect(settings.getByLabel('Daily reconciliation at (UTC)')).toHaveValue('02:30');
  await expect(settings.getByLabel('Hold deletions above (records)')).toHaveValue('50');
  await expect(settings.getByLabel('A record to create already exists')).toHaveValue('merge_target');
});
