import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, logIn, shot, test } from './fixtures';
import {
  appKey,
  connectHubspot,
  contactsToHubspot,
  createTenant,
  hubspotContacts,
  hubspotListContacts,
  push,
} from './sync-helpers';

// Duplicate candidates: contacts the app sends whose email already belongs to a HubSpot contact
// are skipped (the policy is "skip and notify") and wait on the pipeline page. One is decided
// "the same, the app wins": HubSpot's contact takes the app's name. The other "the same, HubSpot
// wins": linked, HubSpot's contact unchanged. Nothing is created twice.

const TENANT = { name: 'Twins Decide', slug: 'twins-decide' };
const ACCOUNT = `${TENANT.slug}-sandbox`;

test('duplicate candidates are linked with the side chosen leading', async ({ page }) => {
  test.setTimeout(120_000);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenant = await createTenant(page, TENANT);
  await connectHubspot(page, tenant.id);
  const [first, second] = await hubspotListContacts(page.request, ACCOUNT, 2);
  const key = await appKey(page, tenant.id);
  await push(page.request, key, [
    { id: 'twin-app-wins', data: { email: first.properties.email, first_name: 'Appwins', last_name: 'Twin' } },
    { id: 'twin-crm-wins', data: { email: second.properties.email, first_name: 'Crmloses', last_name: 'Twin' } },
  ]);
  const pipeline = await contactsToHubspot(page, tenant.id);
  await page.goto(`/t/${tenant.id}/pipelines/${pipeline.id}`);

  const section = page.getByTestId('duplicate-candidates');
  await expect(section.getByTestId('duplicate-candidate')).toHaveCount(2, { timeout: 30_000 });
  const appWins = section.locator('[data-testid="duplicate-candidate"][data-record="twin-app-wins"]');
  await expect(appWins).toContainText('Appwins Twin');
  await expect(appWins.getByTestId('twin-id')).toHaveText(first.id);
  await expect(appWins).toContainText(`same email ${first.properties.email!.toLowerCase()}`);
  await shot(page, 'duplicate-candidates');

  // Tablet width: the candidates and their buttons fit.
  await page.setViewportSize({ width: 820, height: 1180 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(820);
  await page.setViewportSize({ width: 1280, height: 800 });

  // By keyboard: focus the decision and press Enter.
  await appWins.getByRole('button', { name: 'Same — The app wins' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('duplicates-decided')).toContainText('1 linked to its twin');
  const crmWins = section.locator('[data-testid="duplicate-candidate"][data-record="twin-crm-wins"]');
  await crmWins.getByRole('button', { name: /Same — HubSpot .* wins/ }).click();
  await expect(section.getByTestId('duplicate-candidate')).toHaveCount(0);

  await expect
    .poll(async () => (await hubspotContacts(page.request, ACCOUNT, first.properties.email!, ['firstname']))[0]?.properties.firstname, {
      timeout: 30_000,
    })
    .toBe('Appwins');
  await expect
    .poll(async () => {
      const list = await (await page.request.get(`/api/v1/tenants/${tenant.id}/record-history/twin-crm-wins`)).json();
      return list[0]?.outcome;
    })
    .toBe('matched');
  const kept = await hubspotContacts(page.request, ACCOUNT, second.properties.email!, ['firstname']);
  expect(kept.map((c) => c.properties.firstname)).toEqual([second.properties.firstname]);
  const mine = await hubspotContacts(page.request, ACCOUNT, first.properties.email!);
  expect(mine).toHaveLength(1);
});
