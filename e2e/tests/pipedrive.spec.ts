import { expect, logIn, shot, test, ADMIN_EMAIL, ADMIN_PASSWORD } from './fixtures';
import { appKey, createTenant, csrfHeaders, firstRunSucceeded, push } from './sync-helpers';

// Pipedrive connected with a personal API token typed into the Connections page (not its consent
// page): a wrong token is refused with Pipedrive's reason beside the field and nothing is kept;
// the right one connects; a contact the app pushes then arrives in the Pipedrive sandbox.

const TENANT = { name: 'Piped Co', slug: 'piped-co' };
const ACCOUNT = `${TENANT.slug}-sandbox`;

test('connect Pipedrive with an API token and see an app contact arrive there', async ({ page, errorWatch }) => {
  // The refused token is answered 400 (the field named); the UI shows it beside the input.
  errorWatch.allow(/\/connections\/credentials$/, 400);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenant = await createTenant(page, TENANT);
  await page.goto(`/t/${tenant.id}/connections?environment=sandbox`);

  const card = page.locator('[data-testid="provider-card"][data-provider="pipedrive"]');
  await expect(card).toHaveAttribute('data-state', 'not-connected');
  const form = card.getByTestId('credentials-form');
  await form.locator('summary').click();
  const input = form.getByTestId('credential-api_token');
  await expect(input).toHaveAttribute('type', 'password');
  await expect(form).toContainText('Personal preferences → API');

  // Empty: named in the page, nothing sent.
  await form.getByTestId('connect-with-credentials').click();
  await expect(form.getByTestId('credential-error')).toHaveText('Enter the API token.');

  // Wrong: Pipedrive's own reason, beside the field.
  await input.fill('0123456789abcdef0123456789abcdef01234567');
  await form.getByTestId('connect-with-credentials').click();
  await expect(form.getByTestId('credential-error')).toContainText('Pipedrive refused it');
  await expect(form.getByTestId('credential-error')).toContainText('unauthorized access');
  await expect(input).toHaveAttribute('aria-invalid', 'true');
  await expect(card).toHaveAttribute('data-state', 'not-connected');

  // The company's personal API token, as its user copies it from Pipedrive's settings.
  const token = await page.request.post(`/sandbox/_control/pipedrive/accounts/${ACCOUNT}/tokens/static`);
  expect(token.status()).toBe(200);
  const apiToken: string = (await token.json()).access_token;
  await input.fill(apiToken);
  await form.getByTestId('connect-with-credentials').click();
  await expect(form.getByTestId('credentials-done')).toContainText('Connected to');
  await expect(card).toHaveAttribute('data-state', 'connected');
  await expect(input).toHaveValue('');
  await expect(page.locator('body')).not.toContainText(apiToken);
  await shot(page, 'pipedrive-api-token');

  // At phone width the form and its field fit the screen (the tenant navigation's own overflow
  // at this width is issue 22's).
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(form).toBeVisible();
  for (const element of [form, input, form.getByTestId('connect-with-credentials')]) {
    const box = await element.boundingBox();
    expect(box, 'laid out').not.toBeNull();
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
  }
  await page.setViewportSize({ width: 1280, height: 800 });

  // The app pushes a contact; the pipeline's first run takes it to Pipedrive.
  const key = await appKey(page, tenant.id);
  const email = `ada.${Date.now()}@piped.example`;
  await push(page.request, key, [{ id: 'ada', data: { first_name: 'Ada', last_name: 'Lovelace', email } }]);
  const connections = await (await page.request.get(`/api/v1/tenants/${tenant.id}/connections`)).json();
  const pipedrive = connections.find((c: { provider: string }) => c.provider === 'pipedrive');
  const created = await page.request.post(`/api/v1/tenants/${tenant.id}/pipelines`, {
    headers: await csrfHeaders(page),
    data: {
      name: 'Contacts to Pipedrive',
      environment: 'sandbox',
      object: 'contact',
      source: { kind: 'app' },
      target: { kind: 'connection', connection_id: pipedrive.id },
      direction: 'one_way',
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const pipeline = await created.json();
  await firstRunSucceeded(page, tenant.id, pipeline.id);

  // In Pipedrive, as its API answers a search by email.
  const found = await page.request.get(
    `/sandbox/pipedrive/${ACCOUNT}/api/v2/persons/search?term=${encodeURIComponent(email)}&fields=email&exact_match=true`,
    { headers: { 'x-api-token': apiToken } },
  );
  expect(found.status()).toBe(200);
  const items = (await found.json()).data.items;
  expect(items).toHaveLength(1);
  expect(items[0].item.name).toBe('Ada Lovelace');
  expect(items[0].item.emails).toEqual([email]);
});
