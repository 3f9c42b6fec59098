import type { APIRequestContext, Page } from '@playwright/test';

import { expect } from './fixtures';

// What the sync specs do besides clicking: act as the operator's app (API key) and look into the
// HubSpot sandbox as HubSpot's own API answers.

/** The header a session needs to change anything through the API. */
export async function csrfHeaders(page: Page): Promise<Record<string, string>> {
  const session = await page.request.get('/api/v1/auth/session');
  expect(session.status()).toBe(200);
  const { csrf_token } = await session.json();
  return { 'X-CSRF-Token': csrf_token };
}

/** Creates a tenant (not a demo one unless asked) as the logged-in operator admin. */
export async function createTenant(
  page: Page,
  tenant: { name: string; slug: string },
  isDemo = false,
): Promise<{ id: string }> {
  const created = await page.request.post('/api/v1/tenants', {
    headers: await csrfHeaders(page),
    data: { ...tenant, is_demo: isDemo },
  });
  expect(created.status()).toBe(201);
  return created.json();
}

/** A sandbox API key of the tenant, as the operator's app holds it. */
export async function appKey(page: Page, tenantId: string): Promise<string> {
  const key = await page.request.post(`/api/v1/tenants/${tenantId}/api-keys`, {
    headers: await csrfHeaders(page),
    data: { name: 'app', environment: 'sandbox' },
  });
  expect(key.status()).toBe(201);
  return (await key.json()).secret;
}

/** Pushes contacts as the operator's app does, with the tenant's API key. */
export async function push(request: APIRequestContext, key: string, records: Array<{ id: string; data: object }>) {
  const response = await request.post('/api/v1/records/contact/batch', {
    headers: { Authorization: `Bearer ${key}` },
    data: { records: records.map((r) => ({ external_id: r.id, data: r.data })) },
  });
  expect(response.status(), await response.text()).toBe(200);
}

/** The app's copy of a contact, read with the API key. */
export async function appContact(request: APIRequestContext, key: string, id: string) {
  const response = await request.get(`/api/v1/records/contact/${id}`, {
    headers: { Authorization: `Bearer ${key}` },
  });
  expect(response.status(), await response.text()).toBe(200);
  return response.json();
}

/** A token for a HubSpot sandbox account, as a private app would hold it. */
async function hubspotToken(request: APIRequestContext, account: string): Promise<string> {
  const token = await request.post(`/sandbox/_control/hubspot/accounts/${account}/tokens/static`);
  expect(token.status()).toBe(200);
  return (await token.json()).access_token;
}

/** The HubSpot sandbox's contacts with this email, with the properties asked for. */
export async function hubspotContacts(
  request: APIRequestContext,
  account: string,
  email: string,
  properties: string[] = ['email'],
): Promise<Array<{ id: string; properties: Record<string, string | null> }>> {
  const token = await hubspotToken(request, account);
  // HubSpot's search allows a few requests per second per account, shared with the sync engine's
  // own searches: a 429 is waited out (Retry-After), as HubSpot's clients do.
  for (let attempt = 1; ; attempt++) {
    const found = await request.post(`/sandbox/hubspot/${account}/crm/v3/objects/contacts/search`, {
      headers: { Authorization: `Bearer ${token}` },
      data: { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: email }] }], properties },
    });
    if (found.status() === 429 && attempt < 10) {
      const seconds = Number(found.headers()['retry-after'] ?? '1');
      await new Promise((resolve) => setTimeout(resolve, Math.max(seconds, 0.2) * 1000));
      continue;
    }
    expect(found.status(), await found.text()).toBe(200);
    return (await found.json()).results;
  }
}

/** Changes a contact in the HubSpot sandbox, as someone working in HubSpot would. */
export async function editHubspotContact(
  request: APIRequestContext,
  account: string,
  id: string,
  properties: Record<string, string>,
) {
  const token = await hubspotToken(request, account);
  const response = await request.patch(`/sandbox/hubspot/${account}/crm/v3/objects/contacts/${id}`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { properties },
  });
  expect(response.status(), await response.text()).toBe(200);
}

/** Starts a run and waits until it has finished; returns it. */
export async function runAndWait(page: Page, tenantId: string, pipelineId: string) {
  const runs = `/api/v1/tenants/${tenantId}/pipelines/${pipelineId}/runs`;
  const before = ((await (await page.request.get(runs)).json()) as Array<{ id: string }>).map((r) => r.id);
  const started = await page.request.post(`/api/v1/tenants/${tenantId}/pipelines/${pipelineId}/run`, {
    headers: await csrfHeaders(page),
    data: {},
  });
  expect(started.status(), await started.text()).toBe(202);
  let finished: { status: string; counts: Record<string, number> } | undefined;
  await expect
    .poll(
      async () => {
        const list = (await (await page.request.get(runs)).json()) as Array<{
          id: string;
          status: string;
          counts: Record<string, number>;
        }>;
        finished = list.find((r) => !before.includes(r.id) && r.status !== 'running');
        return finished?.status;
      },
      { timeout: 30_000 },
    )
    .toBeTruthy();
  return finished!;
}

/** Connects the HubSpot sandbox from the Connections page, through its consent page. */
export async function connectHubspot(page: Page, tenantId: string, environment = 'sandbox') {
  await page.goto(`/t/${tenantId}/connections?environment=${environment}`);
  await page
    .locator('[data-testid="provider-card"][data-provider="hubspot"]')
    .getByTestId('connect-button')
    .click();
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByTestId('connected-notice')).toContainText('HubSpot connected');
}

/** The first contacts of a HubSpot sandbox account, as HubSpot lists them. */
export async function hubspotListContacts(
  request: APIRequestContext,
  account: string,
  limit: number,
  properties: string[] = ['email', 'firstname'],
): Promise<Array<{ id: string; properties: Record<string, string | null> }>> {
  const token = await hubspotToken(request, account);
  const listed = await request.get(
    `/sandbox/hubspot/${account}/crm/v3/objects/contacts?limit=${limit}&properties=${properties.join(',')}`,
    { headers: { Authorization: `Bearer ${token}` } },
  );
  expect(listed.status()).toBe(200);
  return (await listed.json()).results;
}

/** Creates the app → HubSpot contacts pipeline through the API (with these settings); returns it. */
export async function contactsToHubspot(page: Page, tenantId: string, settings?: object): Promise<{ id: string }> {
  const connections = await (await page.request.get(`/api/v1/tenants/${tenantId}/connections`)).json();
  const created = await page.request.post(`/api/v1/tenants/${tenantId}/pipelines`, {
    headers: await csrfHeaders(page),
    data: {
      name: 'Contacts to HubSpot',
      environment: 'sandbox',
      object: 'contact',
      source: { kind: 'app' },
      target: { kind: 'connection', connection_id: connections[0].id },
      direction: 'one_way',
      ...(settings ? { settings } : {}),
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  return created.json();
}

/** Waits until the pipeline's first run (it starts by itself) has succeeded. */
export async function firstRunSucceeded(page: Page, tenantId: string, pipelineId: string) {
  await expect
    .poll(
      async () => (await (await page.request.get(`/api/v1/tenants/${tenantId}/pipelines/${pipelineId}/runs`)).json())[0]?.status,
      { timeout: 30_000 },
    )
    .toBe('succeeded');
}

/** Deletes (archives) contacts in the HubSpot sandbox, as someone working in HubSpot would. */
export async function archiveHubspotContacts(request: APIRequestContext, account: string, ids: string[]) {
  const token = await hubspotToken(request, account);
  for (const id of ids) {
    const archived = await request.delete(`/sandbox/hubspot/${account}/crm/v3/objects/contacts/${id}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(archived.status(), await archived.text()).toBe(204);
  }
}
