import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, logIn, shot, test } from './fixtures';
import {
  appContact,
  appKey,
  connectHubspot,
  createTenant,
  csrfHeaders,
  editHubspotContact,
  hubspotContacts,
  push,
  runAndWait,
} from './sync-helpers';

// The mapping editor, from a two-way contact pipeline with HubSpot: the live field lists (custom
// properties, types, picklist values), an unknown field refused inline and on save, a custom
// property mapped through a value table onto its picklist, a status mapped by editing the table,
// a preview of a real record, saving as a new version and the contact reaching HubSpot with the
// new values; the way back edited as HubSpot's own lifecycle stages, a contact edited in HubSpot
// coming back with its mapped status; an old version restored; and a failed record's link
// landing on the rule of the field at fault.

const TENANT = { name: 'Mapping Works', slug: 'mapping-works' };
const ACCOUNT = `${TENANT.slug}-sandbox`;
const KIM = { id: 'map-kim', email: 'kim@mapping-works.example' };

test('the mapping editor: live fields, inline errors, value tables, preview, versions, the way back', async ({
  page,
  errorWatch,
}) => {
  test.setTimeout(150_000);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenant = await createTenant(page, TENANT);
  await connectHubspot(page, tenant.id);
  const key = await appKey(page, tenant.id);
  const kim = (extra: object = {}) => ({
    id: KIM.id,
    data: {
      email: KIM.email,
      first_name: 'Kim',
      last_name: 'Mapper',
      status: 'vip',
      custom: { tier: 'platinum' },
      ...extra,
    },
  });
  await push(page.request, key, [kim()]);
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
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const pipeline = await created.json();
  const mappingPath = `/api/v1/tenants/${tenant.id}/pipelines/${pipeline.id}/mappings/forward`;

  // From the pipeline's page to its mapping.
  await page.goto(`/t/${tenant.id}/pipelines/${pipeline.id}`);
  await page.getByTestId('edit-mapping').click();
  await expect(page).toHaveTitle('Mapping editor · Tandem');
  await expect(page.getByTestId('mapping-title')).toHaveText(/^Tandem app → HubSpot \(/);
  await expect(page.getByTestId('mapping-status')).toContainText('Version 1');
  const rule = (target: string) => page.locator(`[data-testid="mapping-rule"][data-target="${target}"]`);
  await expect(rule('lifecyclestage').getByTestId('rule-target-type')).toContainText('picklist');

  // HubSpot's live properties, searchable, custom ones marked.
  const targetFields = page.getByTestId('target-fields');
  await targetFields.getByTestId('field-search').fill('tier');
  const tier = targetFields.getByTestId('field-item');
  await expect(tier).toHaveCount(1);
  await expect(tier).toHaveAttribute('data-name', 'customer_tier');
  await expect(tier.getByTestId('custom-badge')).toBeVisible();
  await expect(tier).toContainText('3 values');

  // A misspelt field is named on its row as soon as the edit settles, and saving is refused.
  await rule('firstname').getByTestId('rule-target').fill('firstnme');
  await rule('firstname').getByTestId('rule-target').press('Tab');
  await expect(rule('firstnme').getByTestId('rule-error')).toContainText('firstnme');
  await expect(page.getByTestId('mapping-problems')).toContainText('firstnme');
  await expect(page.getByTestId('mapping-status')).toContainText('unsaved changes');
  errorWatch.allow(mappingPath, 400);
  await page.getByTestId('save-mapping').click();
  await expect(page.getByTestId('save-error')).toContainText('firstnme');
  await shot(page, 'mapping-inline-error');
  await rule('firstnme').getByTestId('rule-target').fill('firstname');
  await rule('firstnme').getByTestId('rule-target').press('Tab');
  await expect(page.getByTestId('mapping-check')).toHaveText('No problems found');

  // The custom property: mapped from the field list, read from the app's custom tier through a
  // value table whose targets are HubSpot's tier values.
  await tier.getByTestId('map-field').click();
  await expect(rule('customer_tier').getByTestId('rule-error')).toBeVisible();
  await rule('customer_tier').getByTestId('rule-source').fill('custom.tier');
  await rule('customer_tier').getByTestId('rule-source').press('Tab');
  await rule('customer_tier').getByTestId('add-transform').selectOption('value_table');
  const tiers = page.locator('[data-testid="value-table"][data-name="customer_tier"]');
  await expect(tiers).toContainText('for customer_tier');
  // Each value table transform still names its own table.
  await expect(rule('lifecyclestage').getByTestId('transform').locator('select')).toHaveValue('statuses');
  await expect(rule('customer_tier').getByTestId('transform').locator('select')).toHaveValue('customer_tier');
  await tiers.getByTestId('add-value-entry').click();
  const entry = tiers.getByTestId('value-entry');
  await entry.locator('input').fill('platinum, gold');
  await entry.locator('input').press('Tab');
  await entry.locator('select').selectOption('gold');
  await tiers.getByLabel('Any other value becomes').selectOption('bronze');

  // The app's status `vip` becomes HubSpot's `customer`, beside `customer` and `active`.
  const statuses = page.locator('[data-testid="value-table"][data-name="statuses"]');
  const toCustomer = statuses.getByTestId('value-entry').filter({ has: page.locator('select option:checked[value="customer"]') });
  await expect(toCustomer.locator('input')).toHaveValue('customer, active');
  await toCustomer.locator('input').fill('customer, active, vip');
  await toCustomer.locator('input').press('Tab');
  await expect(page.getByTestId('mapping-check')).toHaveText('No problems found');

  // A preview on Kim's real record, before and after.
  await page.getByTestId('preview-record').fill(KIM.id);
  await page.getByTestId('preview-mapping').click();
  await expect(page.getByTestId('preview-before')).toContainText('"platinum"');
  await expect(page.getByTestId('preview-after')).toContainText('"lifecyclestage": "customer"');
  await expect(page.getByTestId('preview-after')).toContainText('"customer_tier": "gold"');
  await shot(page, 'mapping-editor');

  await page.getByTestId('save-mapping').click();
  await expect(page.getByTestId('mapping-saved')).toContainText('Saved as version 2');
  await expect(page.getByTestId('version-row')).toHaveCount(2);
  await expect(page.getByTestId('mapping-status')).not.toContainText('unsaved');

  // Kim changes in the app: HubSpot gets the newly mapped values.
  await push(page.request, key, [kim({ job_title: 'Engineer' })]);
  await runAndWait(page, tenant.id, pipeline.id);
  const [inHubspot] = await hubspotContacts(page.request, ACCOUNT, KIM.email, ['lifecyclestage', 'customer_tier']);
  expect(inHubspot.properties).toMatchObject({ lifecyclestage: 'customer', customer_tier: 'gold' });

  // The way back lists HubSpot's lifecycle stages: a sales qualified lead becomes `hot`.
  await page.getByTestId('other-flow').click();
  await expect(page.getByTestId('mapping-title')).toHaveText(/^HubSpot \(.*\) → Tandem app$/);
  const stages = page.locator('[data-testid="value-table"][data-name="stages"]');
  await expect(stages.getByTestId('value-row')).toHaveCount(8);
  const sql = stages.locator('[data-testid="value-row"][data-from="salesqualifiedlead"] input');
  await expect(sql).toHaveValue('prospect');
  await sql.fill('hot');
  await sql.press('Tab');
  await expect(page.getByTestId('mapping-check')).toHaveText('No problems found');
  await shot(page, 'mapping-editor-way-back');
  await page.getByTestId('save-mapping').click();
  await expect(page.getByTestId('mapping-saved')).toContainText('Saved as version 2');

  // Someone qualifies Kim in HubSpot: the app gets the mapped status.
  await editHubspotContact(page.request, ACCOUNT, inHubspot.id, { lifecyclestage: 'salesqualifiedlead' });
  await expect
    .poll(
      async () => {
        await runAndWait(page, tenant.id, pipeline.id);
        return (await appContact(page.request, key, KIM.id)).data.status;
      },
      { timeout: 60_000 },
    )
    .toBe('hot');

  // An old version, viewed and restored as a new one.
  await page.getByTestId('other-flow').click();
  await expect(page.getByTestId('mapping-status')).toContainText('Version 2');
  const first = page.locator('[data-testid="version-row"][data-version="1"]');
  await first.getByTestId('view-version').click();
  await expect(page.getByTestId('version-config')).not.toContainText('customer_tier');
  await first.getByTestId('restore-version').click();
  await expect(page.getByTestId('mapping-saved')).toContainText('Version 1 restored as version 3');
  await expect(rule('customer_tier')).toHaveCount(0);
  await expect(page.getByTestId('version-row')).toHaveCount(3);
  await shot(page, 'mapping-versions');

  // By keyboard: a rule added from the field name alone, then removed again.
  await page.getByLabel('Map another field').focus();
  await page.keyboard.type('hs_lead_status');
  await page.keyboard.press('Enter');
  await expect(rule('hs_lead_status').getByTestId('rule-target-type')).toContainText('picklist');
  await rule('hs_lead_status').getByTestId('remove-rule').focus();
  await page.keyboard.press('Enter');
  await expect(rule('hs_lead_status')).toHaveCount(0);
  await expect(page.getByTestId('mapping-status')).not.toContainText('unsaved');

  // Readable on a tablet: nothing wider than the screen but the rules table, which scrolls.
  await page.setViewportSize({ width: 820, height: 1180 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(820);
  await shot(page, 'mapping-editor-tablet');
  await page.setViewportSize({ width: 1280, height: 900 });

  // A record that fails on its phone number links to the rule that writes it.
  await push(page.request, key, [{ id: 'map-lin', data: { email: 'lin@mapping-works.example', phone: 'call me' } }]);
  await runAndWait(page, tenant.id, pipeline.id);
  await page.getByTestId('nav-failed-records').click();
  const failed = page.getByTestId('failed-record').filter({ hasText: 'map-lin' });
  await failed.getByTestId('toggle-details').click();
  await failed.getByTestId('mapping-of-record').click();
  await expect(page).toHaveURL(/\/mapping\/forward\?field=phone$/);
  await expect(rule('phone')).toHaveClass(/focused/);
  await expect(rule('phone').getByTestId('rule-source')).toHaveValue('phone');
});
