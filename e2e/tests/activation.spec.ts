import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, logIn, shot, test } from './fixtures';
import { appKey, createTenant, hubspotContacts, push } from './sync-helpers';

// A customer activates HubSpot without reading a line of docs: picks the CRM, allows access on
// HubSpot's consent page and comes back to the wizard, chooses contacts both ways, checks the
// suggested mapping, leaves for the Pipelines page (the pipeline waits there, paused) and comes
// back to the same step, previews the mapping on a real contact, and enables it: the contact
// reaches the HubSpot sandbox.

const TENANT = { name: 'Activation Works', slug: 'activation-works' };
const ACCOUNT = `${TENANT.slug}-sandbox`;

test('the activation wizard: pick, connect, choose, check, leave and resume, preview, enable', async ({ page }) => {
  test.setTimeout(120_000);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenant = await createTenant(page, TENANT);
  const key = await appKey(page, tenant.id);
  await push(page.request, key, [
    { id: 'act-noor', data: { email: 'noor@activation-works.example', first_name: 'Noor', last_name: 'Activated', status: 'customer' } },
  ]);

  await page.goto(`/t/${tenant.id}/pipelines`);
  await page.getByTestId('nav-activate').click();
  await expect(page).toHaveTitle('Activate a CRM · Tandem');
  const step = page.getByTestId('wizard-step');
  await expect(step).toHaveAttribute('data-step', 'crm');
  await shot(page, 'activation-pick');

  // 1–2: HubSpot, sandbox; its consent page, and back into the wizard.
  await page.locator('[data-testid="pick-crm"][data-provider="hubspot"]').click();
  await expect(step).toHaveAttribute('data-step', 'connect');
  await page.getByTestId('wizard-connect').click();
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${tenant.id}/activate$`));
  await expect(page.getByTestId('connected-account')).toContainText(ACCOUNT);
  await page.getByTestId('wizard-next').click();

  // 3: contacts, both ways (the default); companies left out.
  await expect(step).toHaveAttribute('data-step', 'objects');
  const contacts = page.locator('[data-testid="object-choice"][data-object="contact"]');
  await expect(contacts.getByRole('checkbox')).toBeChecked();
  await expect(contacts.getByRole('combobox')).toHaveValue('both');
  await shot(page, 'activation-objects');
  await page.getByTestId('wizard-create').click();

  // 4: the suggested mappings, checked against HubSpot's live fields.
  await expect(step).toHaveAttribute('data-step', 'map');
  const item = page.getByTestId('wizard-pipeline');
  await expect(item).toContainText('Contacts with HubSpot');
  await expect(item.locator('[data-flow="forward"]').getByTestId('mapping-ok')).toBeVisible();
  await expect(item.locator('[data-flow="reverse"]').getByTestId('mapping-ok')).toBeVisible();
  await shot(page, 'activation-map');

  // Left: the pipeline waits, paused, and nothing has run.
  await page.getByTestId('nav-pipelines').click();
  const card = page.getByTestId('pipeline-card');
  await expect(card.getByTestId('pipeline-status')).toHaveText('Paused');
  expect(await hubspotContacts(page.request, ACCOUNT, 'noor@activation-works.example')).toHaveLength(0);

  // Resumed where it was, through the mapping editor and back.
  await page.getByTestId('nav-activate').click();
  await expect(step).toHaveAttribute('data-step', 'map');
  await item.locator('[data-flow="forward"]').getByTestId('edit-mapping').click();
  await expect(page.getByTestId('mapping-title')).toContainText('Tandem app → HubSpot');
  await page.goBack();
  await expect(step).toHaveAttribute('data-step', 'map');
  await expect(item.locator('[data-flow="reverse"]').getByTestId('mapping-ok')).toBeVisible();
  await page.getByTestId('wizard-next').click();

  // 5: the mapping applied to Noor, before and after.
  await expect(step).toHaveAttribute('data-step', 'preview');
  await expect(page.getByTestId('preview-before')).toContainText('noor@activation-works.example');
  await expect(page.getByTestId('preview-after')).toContainText('"lifecyclestage": "customer"');
  await shot(page, 'activation-preview');
  await page.getByTestId('wizard-next').click();

  // 6: enabled; Noor reaches HubSpot.
  await expect(step).toHaveAttribute('data-step', 'enable');
  await page.getByTestId('wizard-enable').click();
  await expect(page.getByTestId('activation-done')).toBeVisible();
  await shot(page, 'activation-done');
  await expect
    .poll(async () => (await hubspotContacts(page.request, ACCOUNT, 'noor@activation-works.example')).length, {
      timeout: 30_000,
    })
    .toBe(1);
  await page.getByTestId('enabled-pipeline').click();
  await expect(page.getByTestId('pipeline-header-status')).toHaveText('Active');
  await expect(page.getByTestId('run-row').first()).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });

  // Keyboard: the wizard starts again from the nav link and a CRM is picked with Enter.
  await page.getByTestId('nav-activate').click();
  await page.getByTestId('activate-another').focus();
  await page.keyboard.press('Enter');
  await expect(step).toHaveAttribute('data-step', 'crm');
  await page.locator('[data-testid="pick-crm"][data-provider="hubspot"]').focus();
  await page.keyboard.press('Enter');
  await expect(step).toHaveAttribute('data-step', 'connect');
  // The connection made before is found: no second consent needed.
  await expect(page.getByTestId('connected-account')).toContainText(ACCOUNT);
});
