import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, logIn, shot, test } from './fixtures';
import { appKey, connectHubspot, contactsToHubspot, createTenant, push } from './sync-helpers';

// A first sync bigger than the day allows, in the browser: an admin gives Tandem a small daily
// share of the HubSpot account's API quota on the connection's card, the app's thousand contacts
// start to sync, the sync history shows the run waiting for tomorrow's quota with its estimated
// finish, and when the admin goes back to HubSpot's defaults (in another tab) the same run goes on
// and finishes on the open page without a reload; the contacts are in the HubSpot sandbox.

const TENANT = { name: 'Quota Works', slug: 'quota-works' };
const ACCOUNT = `/sandbox/_control/hubspot/accounts/${TENANT.slug}-sandbox`;
const CONTACTS = 1_000;

/** The next UTC midnight, as the UI writes times: `2026-12-03 00:00 UTC`. */
function nextUtcMidnight(): string {
  const now = new Date();
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  return `${next.toISOString().slice(0, 10)} 00:00 UTC`;
}

test('an initial sync spread over a daily quota: waiting, then going on when the quota is raised', async ({
  page,
  errorWatch,
}) => {
  test.setTimeout(120_000);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenant = await createTenant(page, TENANT);
  await connectHubspot(page, tenant.id);

  // The card tells today's use against HubSpot's own limits.
  const card = page.locator('[data-testid="provider-card"][data-provider="hubspot"]');
  await expect(card.getByTestId('api-budget')).toContainText('0 of 650,000 calls');
  await expect(card.getByTestId('api-budget')).toContainText('11 requests a second');
  await expect(card.getByTestId('api-budget-source')).toHaveText("HubSpot's defaults.");

  // The limits open by keyboard; bad values are refused, naming the field.
  await card.getByText('API limits').focus();
  await page.keyboard.press('Enter');
  const daily = card.getByLabel('Calls a day');
  await expect(daily).toBeVisible();
  await expect(daily).toHaveAttribute('placeholder', '650,000');
  await daily.fill('lots');
  await card.getByTestId('save-limits').click();
  await expect(card.getByTestId('limits-daily-error')).toHaveText('Calls a day: “lots” is not a whole number of calls');
  await expect(daily).toHaveAttribute('aria-invalid', 'true');
  // The refusals below are the server's 400s, expected here.
  errorWatch.allow(new RegExp(`^/api/v1/tenants/${tenant.id}/connections/[0-9a-f-]+$`), 400);
  await daily.fill('0');
  await card.getByTestId('save-limits').click();
  // The server's own check, shown beside its field.
  await expect(card.getByTestId('limits-daily-error')).toHaveText('Calls a day: must be at least 1 call a day');
  await card.getByLabel('Requests a second').fill('5000');
  await daily.fill('6');
  await card.getByTestId('save-limits').click();
  await expect(card.getByTestId('limits-rate-error')).toContainText('Requests a second: 5000 is not above 0');
  await expect(card.getByTestId('limits-daily-error')).toBeEmpty();
  await card.getByLabel('Requests a second').fill('');
  // HubSpot limits its search API apart (changes are read through it): its own field.
  const searches = card.getByLabel('Searches a second');
  await expect(searches).toHaveAttribute('placeholder', '5');
  await searches.fill('fast');
  await card.getByTestId('save-limits').click();
  await expect(card.getByTestId('limits-search-error')).toHaveText('Searches a second: “fast” is not a number');
  await searches.fill('20');
  await card.getByTestId('save-limits').click();
  await expect(card.getByTestId('limits-saved')).toHaveText(
    'Saved: syncs now keep to 11 requests a second (20 searches a second) and 6 calls a day.',
  );
  await expect(card.getByTestId('api-budget')).toContainText('0 of 6 calls');
  await expect(card.getByTestId('api-budget')).toContainText('20 searches a second');
  await expect(card.getByTestId('api-budget-source')).toContainText(
    "Set for this connection (HubSpot's defaults: 11 a second, 650,000 a day, 5 searches a second).",
  );
  // From the top: the sticky top bar would land mid-picture otherwise.
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'connection-limits');

  // The app has a thousand contacts; the pipeline's first run takes them all to HubSpot.
  const key = await appKey(page, tenant.id);
  for (const start of [0, CONTACTS / 2]) {
    await push(
      page.request,
      key,
      Array.from({ length: CONTACTS / 2 }, (_, i) => ({
        id: `quota-${start + i}`,
        data: { email: `q${start + i}@quota-works.example`, last_name: `Quota${start + i}` },
      })),
    );
  }
  const before = await (await page.request.get(ACCOUNT)).json();
  // Exact matching only: similar-name checks would spend a search call per record.
  const pipeline = await contactsToHubspot(page, tenant.id, { matching: { fuzzy_threshold: null } });

  // Six calls in, the run waits for the next UTC day, part done, with its estimate.
  await page.goto(`/t/${tenant.id}/pipelines/${pipeline.id}`);
  const run = page.getByTestId('run-row').first();
  await expect(run.getByTestId('run-waiting')).toContainText(
    `Waiting for the daily API quota: goes on at ${nextUtcMidnight()}`,
    { timeout: 30_000 },
  );
  await expect(run).toHaveAttribute('data-status', 'running');
  const progress = run.getByTestId('run-progress');
  await expect(progress).toContainText(`of ${CONTACTS} records · finishes in`);
  const done = Number((await progress.textContent())!.match(/(\d+) of 1000 records/)![1]);
  expect(done).toBeGreaterThan(0);
  expect(done).toBeLessThan(CONTACTS);
  await shot(page, 'quota-waiting');
  await expect(run.getByTestId('run-waiting-limits')).toHaveAttribute(
    'href',
    `/t/${tenant.id}/connections?environment=sandbox`,
  );

  // In another tab, back to HubSpot's defaults; this page follows the run as it goes on.
  const other = await page.context().newPage();
  await other.goto(`/t/${tenant.id}/connections`);
  const otherCard = other.locator('[data-testid="provider-card"][data-provider="hubspot"]');
  await expect(otherCard.getByTestId('api-budget')).toContainText('6 of 6 calls');
  await expect(otherCard.getByTestId('api-budget-spent')).toContainText("Today's quota is spent");
  await otherCard.getByText('API limits').click();
  await otherCard.getByTestId('default-limits').click();
  await expect(otherCard.getByTestId('limits-saved')).toHaveText(
    'Saved: syncs now keep to 11 requests a second (5 searches a second) and 650,000 calls a day.',
  );
  await expect(otherCard.getByTestId('api-budget-source')).toHaveText("HubSpot's defaults.");
  await other.close();

  await expect(run).toHaveAttribute('data-status', 'succeeded', { timeout: 60_000 });
  await expect(run.getByTestId('run-waiting')).toHaveCount(0);
  await expect(page.getByTestId('run-row')).toHaveCount(1);
  await shot(page, 'quota-finished');

  // On the other side: every contact is in the HubSpot sandbox, once.
  const after = await (await page.request.get(ACCOUNT)).json();
  expect(after.records.contacts - before.records.contacts).toBe(CONTACTS);
});
