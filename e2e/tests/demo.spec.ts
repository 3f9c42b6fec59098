import { addOperatorStaff, expect, logIn, shot, test } from './fixtures';
import { hubspotContacts } from './sync-helpers';

// Sales demo: a salesperson clicks Start demo and lands on the dashboard of a new demo tenant,
// connected to the sandbox HubSpot and Salesforce; records flow (counts go up, events list),
// the seeded contacts are in HubSpot, a bad record shows up as failed; Reset demo starts over
// with a fresh tenant and the old one is gone.

const SALES = { email: 'sam.sales@tandem.local', password: 'sales-password-789' };

test('start a demo, watch records flow, reset it', async ({ page, errorWatch }) => {
  test.setTimeout(120_000);
  addOperatorStaff(SALES.email, 'sales', SALES.password);
  await logIn(page, SALES.email, SALES.password);
  await page.getByTestId('nav-demo').click();
  await expect(page).toHaveTitle('Sales demo · Tandem');
  // Which CRMs: HubSpot and Salesforce unless the salesperson ticks others; Pipedrive too here.
  await expect(page.getByTestId('demo-crm-hubspot')).toBeChecked();
  await expect(page.getByTestId('demo-crm-salesforce')).toBeChecked();
  await expect(page.getByTestId('demo-crm-pipedrive')).not.toBeChecked();
  await expect(page.getByTestId('demo-crm-zoho')).toHaveCount(0);
  await page.getByTestId('demo-crm-pipedrive').check();
  // By keyboard: the button takes focus and Enter starts the demo.
  await page.getByTestId('start-demo').focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/t\/[0-9a-f-]+\/demo$/, { timeout: 30_000 });
  await expect(page).toHaveTitle('Demo dashboard · Tandem');
  const tenantId = page.url().split('/t/')[1].split('/')[0];
  await expect(page.getByTestId('demo-badge').first()).toBeVisible();
  // HubSpot's contacts, deals and appointments; Salesforce's and Pipedrive's contacts.
  await expect(page.getByTestId('demo-pipeline')).toHaveCount(5);
  await expect(page.getByTestId('demo-pipelines')).toContainText('Contacts ⇄ Pipedrive');

  // Records flow without a reload: the counts go up and the latest records are listed.
  await expect
    .poll(async () => Number(await page.getByTestId('demo-created').textContent()), { timeout: 30_000 })
    .toBeGreaterThan(10);
  await expect(page.getByTestId('demo-event').first()).toBeVisible();
  const tenant = await (await page.request.get(`/api/v1/tenants/${tenantId}`)).json();
  // The seeded contacts reach HubSpot (its pipeline's first run may still be going).
  await expect
    .poll(
      async () =>
        (
          await hubspotContacts(page.request, `${tenant.slug}-sandbox`, 'amelia.jensen.0@nordwind.example', ['firstname'])
        ).map((c) => c.properties.firstname),
      { timeout: 30_000 },
    )
    .toEqual(['Amelia']);
  // Activity keeps going: more updates, and a bad phone number fails.
  const updatedBefore = Number(await page.getByTestId('demo-updated').textContent());
  await expect
    .poll(async () => Number(await page.getByTestId('demo-failed').textContent()), { timeout: 45_000 })
    .toBeGreaterThan(0);
  await expect
    .poll(async () => Number(await page.getByTestId('demo-updated').textContent()), { timeout: 30_000 })
    .toBeGreaterThan(updatedBefore);
  await shot(page, 'demo-dashboard');
  // Readable at tablet width: nothing runs off the page.
  await page.setViewportSize({ width: 820, height: 1180 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(820);
  await shot(page, 'demo-dashboard-tablet');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByTestId('demo-failed-link').click();
  await expect(page.getByTestId('failed-record').first()).toContainText('call after lunch');

  // Reset: a fresh demo tenant; the old one is gone (a dashboard read in flight then finds it gone).
  errorWatch.allow(`/api/v1/demos/${tenantId}`, 404);
  await page.goto(`/t/${tenantId}/demo`);
  await page.getByTestId('reset-demo').click();
  await expect(page).not.toHaveURL(new RegExp(tenantId), { timeout: 30_000 });
  await expect(page).toHaveURL(/\/t\/[0-9a-f-]+\/demo$/);
  await expect(page.getByTestId('demo-pipeline')).toHaveCount(5); // the same CRMs again
  expect((await page.request.get(`/api/v1/tenants/${tenantId}`)).status()).toBe(404);
  const freshId = page.url().split('/t/')[1].split('/')[0];
  await page.getByTestId('nav-demo').click();
  const listed = page.getByTestId('demo-list');
  await expect(listed.locator(`a[href="/t/${freshId}/demo"]`)).toBeVisible();
  await expect(listed.locator(`a[href="/t/${tenantId}/demo"]`)).toHaveCount(0);
  await shot(page, 'demo-start');
});
