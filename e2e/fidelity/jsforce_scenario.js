// jsforce 3.10.16 (Salesforce's most used Node client) against the Tandem sandbox, unchanged
// except for its `instanceUrl`. Each step prints what it saw; any surprise throws.
//
// Usage: node jsforce_scenario.js <sandbox base URL, e.g. http://127.0.0.1:8090>
'use strict';

const jsforce = require('jsforce');

const { approve, check, controlOf, failure } = require('./common');

const control = controlOf('salesforce');

async function main(base) {
  const account = 'fidelity-js';
  await control(base, `/accounts/${account}/reset`);
  await control(base, `/accounts/${account}/faults`, undefined, 'DELETE');
  await control(base, `/accounts/${account}/limits`, { per_window: 0, window_ms: 0, daily: 100000 }, 'PUT');
  const { access_token: accessToken } = await control(base, `/accounts/${account}/tokens/static`);
  const instanceUrl = `${base}/salesforce/${account}`;
  const conn = new jsforce.Connection({ instanceUrl, accessToken, version: '62.0' });
  const contacts = conn.sobject('Contact');

  const me = await conn.identity();
  check(me.user_id.startsWith('005') && me.organization_id.startsWith('00D'), 'identity ids');
  check(me.id === `${instanceUrl}/id/${me.organization_id}/${me.user_id}`, `identity URL ${me.id}`);
  console.log(`identity: user_id=${me.user_id} organization_id=${me.organization_id} username=${me.username}`);

  const contact = await contacts.describe();
  const field = (name) => contact.fields.find((f) => f.name === name);
  check(contact.keyPrefix === '003' && field('LastName').nillable === false, 'describe Contact');
  const externalIds = contact.fields
    .filter((f) => f.externalId)
    .map((f) => `${f.name}${f.unique ? ' (unique)' : ''}`);
  check(externalIds.includes('Tandem_Id__c (unique)'), 'Tandem_Id__c is a unique External ID');
  const salutations = field('Salutation').picklistValues.map((p) => p.value);
  const stage = (await conn.sobject('Opportunity').describe()).fields.find((f) => f.name === 'StageName');
  check(stage.restrictedPicklist && stage.picklistValues.some((p) => p.value === 'Closed Won'), 'StageName');
  console.log(
    `describe: Contact has ${contact.fields.length} fields, keyPrefix ${contact.keyPrefix}; External IDs: ` +
      `${externalIds.join(', ')}; Salutation picklist [${salutations.join(', ')}]; Opportunity.StageName ` +
      `restricted=${stage.restrictedPicklist} with ${stage.picklistValues.length} values`,
  );

  const created = await contacts.create({ FirstName: 'Grace', LastName: 'Hopper', Email: 'grace.hopper@example.com' });
  check(created.success && created.id.startsWith('003') && created.id.length === 18, 'create');
  console.log(`create: id=${created.id} success=${created.success} errors=${JSON.stringify(created.errors)}`);

  const fetched = await contacts.retrieve(created.id);
  check(fetched.Name === 'Grace Hopper' && fetched.attributes.type === 'Contact', 'retrieve');
  check(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$/.test(fetched.CreatedDate), `CreatedDate ${fetched.CreatedDate}`);
  const some = await contacts.retrieve(created.id, { fields: ['FirstName', 'Email'] });
  console.log(
    `retrieve: ${fetched.Name} <${fetched.Email}> CreatedDate=${fetched.CreatedDate} OwnerId=${fetched.OwnerId}; ` +
      `fields=FirstName,Email gives ${Object.keys(some).join(',')}`,
  );

  const updated = await contacts.update({ Id: created.id, LastName: 'Hopper-Murray', Title: 'Rear Admiral' });
  check(updated.success && updated.id === created.id, 'update');
  const after = await contacts.retrieve(created.id, { fields: ['LastName', 'Title'] });
  check(after.LastName === 'Hopper-Murray' && after.Title === 'Rear Admiral', 'update took');
  console.log(`update: ${JSON.stringify(updated)} (jsforce's answer to 204); LastName now ${after.LastName}`);

  const inserted = await contacts.upsert({ Tandem_Id__c: 'tnd-42', FirstName: 'Ada', LastName: 'Lovelace' }, 'Tandem_Id__c');
  check(inserted.success && inserted.created === true && inserted.id, 'upsert insert');
  const again = await contacts.upsert({ Tandem_Id__c: 'tnd-42', Title: 'Analyst' }, 'Tandem_Id__c');
  check(again.success && again.created === false && again.id === inserted.id, 'upsert update');
  const ambiguous = await failure('an upsert on a key two contacts share', () =>
    contacts.upsert({ Legacy_Id__c: 'LEG-SHARED', Title: 'x' }, 'Legacy_Id__c'),
  );
  check(ambiguous.errorCode === 'MULTIPLE_CHOICES' && ambiguous.data.length === 2, 'upsert 300');
  console.log(
    `upsert by Tandem_Id__c: insert created=${inserted.created} id=${inserted.id}, then update ` +
      `created=${again.created} same id=${again.id === inserted.id}; on Legacy_Id__c LEG-SHARED: ` +
      `${ambiguous.errorCode} with ${ambiguous.data.length} record URLs`,
  );

  const grown = await control(base, `/accounts/${account}/generate`, { contacts: 500 });
  const soql = 'SELECT Id, Name, Email, Account.Name FROM Contact ORDER BY CreatedDate, Id';
  const batch = { headers: { 'Sforce-Query-Options': 'batchSize=200' } };
  const first = await conn.query(soql, batch);
  check(!first.done && first.records.length === 200 && first.totalSize === grown.contacts, 'first page');
  // jsforce keeps only the locator (the last segment) and rebuilds the URL from its instanceUrl.
  check(/\/services\/data\/v62\.0\/query\/01g[^/]+-200$/.test(first.nextRecordsUrl), `nextRecordsUrl ${first.nextRecordsUrl}`);
  const second = await conn.queryMore(first.nextRecordsUrl);
  check(second.records.length === 200 && !second.done, 'queryMore');
  check(!second.records.some((r) => first.records.some((f) => f.Id === r.Id)), 'pages overlap');
  const all = await conn.query(soql, { ...batch, autoFetch: true, maxFetch: 100000 });
  check(all.done && all.records.length === all.totalSize && all.totalSize === grown.contacts, 'autoFetch');
  console.log(
    `query: totalSize=${first.totalSize}, page 1 has ${first.records.length}, nextRecordsUrl=${first.nextRecordsUrl}; ` +
      `queryMore gave ${second.records.length}; autoFetch read ${all.records.length} in ` +
      `${Math.ceil(all.totalSize / 200)} pages; first row's Account=${JSON.stringify(first.records[0].Account?.Name)}`,
  );

  const batchResults = await contacts.create([
    { FirstName: 'Katherine', LastName: 'Johnson', Email: 'k.johnson@example.com' },
    { FirstName: 'No', Email: 'missing.lastname@example.com' },
    { FirstName: 'Dorothy', LastName: 'Vaughan' },
  ]);
  check(batchResults.length === 3 && batchResults[0].success && batchResults[2].success, 'collections create');
  check(!batchResults[1].success && batchResults[1].errors[0].statusCode === 'REQUIRED_FIELD_MISSING', 'per-record error');
  const rolledBack = await contacts.create(
    [{ LastName: 'Kept?' }, { FirstName: 'Nameless' }],
    { allOrNone: true },
  );
  check(rolledBack[0].errors[0].statusCode === 'ALL_OR_NONE_OPERATION_ROLLED_BACK', 'allOrNone');
  const upserted = await contacts.upsert(
    [
      { Tandem_Id__c: 'tnd-42', Department: 'Research' },
      { Tandem_Id__c: 'tnd-43', LastName: 'Babbage' },
    ],
    'Tandem_Id__c',
  );
  check(upserted[0].created === false && upserted[1].created === true, 'collections upsert');
  const many = await contacts.retrieve([created.id, upserted[1].id, '003000000000000AAA']);
  check(many.length === 3 && many[0].Name === 'Grace Hopper-Murray' && many[2] === null, 'collections retrieve');
  console.log(
    `collections create: ${batchResults.map((r) => (r.success ? `ok ${r.id}` : r.errors[0].statusCode)).join(' | ')}; ` +
      `with allOrNone: ${rolledBack.map((r) => r.errors[0].statusCode).join(' | ')}; upsert created=` +
      `[${upserted.map((r) => r.created).join(', ')}]; retrieve of 3 ids (describe's ${contact.fields.length} fields) → ` +
      `[${many.map((r) => (r ? r.Name : 'null')).join(', ')}]`,
  );

  const invalid = await failure('an invalid e-mail', () => contacts.create({ LastName: 'Invalid', Email: 'not-an-email' }));
  check(invalid.errorCode === 'INVALID_EMAIL_ADDRESS', `errorCode ${invalid.errorCode}`);
  check(JSON.stringify(invalid.data.fields) === '["Email"]', 'err.data.fields');
  console.log(
    `validation error: ${invalid.name} errorCode=${invalid.errorCode} message=${JSON.stringify(invalid.message)} ` +
      `fields=${JSON.stringify(invalid.data.fields)}`,
  );

  const done = [batchResults[0].id, batchResults[2].id];
  const destroyed = await contacts.destroy(done);
  check(destroyed.every((r) => r.success), 'collections delete');
  const gone = await failure('retrieving a deleted contact', () => contacts.retrieve(done[0]));
  check(gone.errorCode === 'NOT_FOUND', 'deleted → NOT_FOUND');
  const bin = await conn.query(`SELECT Id, IsDeleted FROM Contact WHERE Id = '${done[0]}'`).scanAll(true);
  check(bin.totalSize === 1 && bin.records[0].IsDeleted === true, 'queryAll sees the recycle bin');
  const window = [new Date(Date.now() - 3600 * 1000), new Date(Date.now() + 60 * 1000)];
  const deleted = await contacts.deleted(...window);
  check(done.every((id) => deleted.deletedRecords.some((d) => d.id === id)), 'getDeleted');
  const changed = await contacts.updated(...window);
  check(changed.ids.includes(created.id), 'getUpdated');
  console.log(
    `delete: collections destroy ${destroyed.length} ok; retrieve then gives ${gone.errorCode}; queryAll shows ` +
      `IsDeleted=${bin.records[0].IsDeleted}; deleted() lists ${deleted.deletedRecords.length}, updated() ${changed.ids.length} ids`,
  );

  const defaults = new jsforce.Connection({ instanceUrl, accessToken });
  check(defaults.version === '50.0', `default version ${defaults.version}`);
  const old = await defaults.sobject('Contact').retrieve(created.id, { fields: ['Name'] });
  check(old.attributes.url.startsWith('/services/data/v50.0/'), 'v50.0 url');
  const count = await defaults.query('SELECT COUNT() FROM Contact');
  console.log(`default version ${defaults.version}: retrieve url=${old.attributes.url}; SELECT COUNT() → ${count.totalSize}`);

  await control(base, `/accounts/${account}/limits`, { per_window: 0, window_ms: 0, daily: 1 }, 'PUT');
  const limited = await failure('a request over the daily allocation', () => contacts.retrieve(created.id));
  check(limited.errorCode === 'REQUEST_LIMIT_EXCEEDED', `errorCode ${limited.errorCode}`);
  check(conn.limitInfo.apiUsage && conn.limitInfo.apiUsage.limit === 1, 'Sforce-Limit-Info seen by jsforce');
  console.log(
    `limit: errorCode=${limited.errorCode} message=${JSON.stringify(limited.message)}; Sforce-Limit-Info as jsforce ` +
      `read it: api-usage=${conn.limitInfo.apiUsage.used}/${conn.limitInfo.apiUsage.limit}`,
  );
  await control(base, `/accounts/${account}/limits`, { per_window: 0, window_ms: 0, daily: 100000 }, 'PUT');

  // jsforce's own OAuth2 client: web-server flow with PKCE through the consent page, then the
  // refresh jsforce does by itself when the session has expired, then logout with revocation.
  const redirectUri = 'http://127.0.0.1:9/callback';
  await control(base, '/apps/fidelity-js-app', { client_secret: 'fidelity-secret', name: 'Fidelity (jsforce)', redirect_uris: [redirectUri] }, 'PUT');
  const oauth2 = new jsforce.OAuth2({
    loginUrl: instanceUrl,
    clientId: 'fidelity-js-app',
    clientSecret: 'fidelity-secret',
    redirectUri,
    useVerifier: true,
  });
  const authorizeUrl = oauth2.getAuthorizationUrl({ scope: 'api refresh_token', state: 'st-1' });
  const { page, callback } = await approve(authorizeUrl);
  check(page.includes('Fidelity (jsforce)'), 'consent page');
  check(callback.searchParams.get('state') === 'st-1', 'state comes back');
  const oauthConn = new jsforce.Connection({ oauth2, version: '62.0' });
  const userInfo = await oauthConn.authorize(callback.searchParams.get('code'));
  const connectedTo = oauthConn.instanceUrl;
  check(connectedTo === instanceUrl && oauthConn.refreshToken && userInfo.organizationId === me.organization_id, 'authorize');
  let refreshes = 0;
  oauthConn.on('refresh', () => {
    refreshes += 1;
  });
  await control(base, `/accounts/${account}/tokens/expire`);
  const counted = await oauthConn.query('SELECT COUNT() FROM Account');
  check(refreshes === 1 && counted.totalSize === 8, 'refresh on 401');
  await oauthConn.logout(true);
  const revoked = await failure('refreshing a revoked grant', () => oauth2.refreshToken(oauthConn.refreshToken));
  check(revoked.name === 'invalid_grant', `after revoke: ${revoked.name}`);
  console.log(
    `oauth2 (PKCE): authorize → instanceUrl=${connectedTo} user ${userInfo.id}; expired session refreshed ` +
      `${refreshes}x by jsforce, query then saw ${counted.totalSize} accounts; logout(revoke) → refresh gives ` +
      `${revoked.name}: ${revoked.message}`,
  );

  console.log('jsforce scenario: all steps passed');
}

main((process.argv[2] || '').replace(/\/+$/, '')).catch((err) => {
  console.error(err);
  process.exit(1);
});
