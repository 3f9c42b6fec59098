// pipedrive 33.7.0 (Pipedrive's official Node client, its API v2) against the Tandem sandbox,
// unchanged except for its base path. Each step prints what it saw; any surprise throws.
//
// Usage: node pipedrive_scenario.js <sandbox base URL, e.g. http://127.0.0.1:8090>
'use strict';

const { v2 } = require('pipedrive');

const { approve, check, controlOf, failure } = require('./common');

const control = controlOf('pipedrive');

async function main(base) {
  const account = 'fidelity-pipedrive';
  await control(base, `/accounts/${account}/reset`);
  await control(base, `/accounts/${account}/faults`, undefined, 'DELETE');
  const host = `${base}/pipedrive/${account}`;

  // OAuth as the client does it: the token's api_domain becomes the client's base path.
  const redirectUri = 'http://127.0.0.1:1/callback';
  await control(base, '/apps/fidelity-client', { client_secret: 'fidelity-secret', name: 'Fidelity', redirect_uris: [redirectUri] }, 'PUT');
  const oauth = new v2.OAuth2Configuration({ clientId: 'fidelity-client', clientSecret: 'fidelity-secret', redirectUri, host });
  const code = (await approve(oauth.authorizationUrl)).callback.searchParams.get('code');
  const token = await oauth.authorize(code);
  check(token.api_domain === host, `api_domain ${token.api_domain}`);
  check(oauth.basePath === `${host}/api/v2`, `OAuth base path ${oauth.basePath}`);
  const viaOAuth = new v2.PersonsApi(oauth);
  const firstPage = await viaOAuth.getPersons({ limit: 5 });
  check(firstPage.success && firstPage.data.length === 5, 'persons through OAuth');
  console.log(`oauth: token expires_in=${token.expires_in}, api_domain=${token.api_domain}, ${firstPage.data.length} persons read`);

  // The API token, as most scripts use it.
  const { access_token: apiKey } = await control(base, `/accounts/${account}/tokens/static`);
  const config = new v2.Configuration({ apiKey, basePath: `${host}/api/v2` });
  const persons = new v2.PersonsApi(config);

  const email = `ada.${Date.now()}@fidelity.example`;
  const created = await persons.addPerson({
    AddPersonRequest: { name: 'Ada Lovelace', emails: [{ value: email, primary: true, label: 'work' }] },
  });
  const id = created.data.id;
  check(Number.isInteger(id) && created.data.emails[0].value === email, 'create');
  console.log(`create: id=${id} name=${created.data.name}`);

  const got = await persons.getPerson({ id });
  check(got.data.name === 'Ada Lovelace' && got.data.update_time.endsWith('Z'), 'get');

  const updated = await persons.updatePerson({ id, UpdatePersonRequest: { name: 'Ada King' } });
  check(updated.data.name === 'Ada King', 'update');
  console.log(`update: name=${updated.data.name} update_time=${updated.data.update_time}`);

  let cursor;
  let listed = 0;
  let pages = 0;
  const seen = new Set();
  do {
    const page = await persons.getPersons({ limit: 7, cursor, sort_by: 'id' });
    pages += 1;
    for (const person of page.data) {
      check(!seen.has(person.id), `person ${person.id} twice`);
      seen.add(person.id);
    }
    listed += page.data.length;
    cursor = page.additional_data.next_cursor;
  } while (cursor);
  check(seen.has(id) && listed === 21, `list: ${listed}`);
  console.log(`list: ${listed} persons in ${pages} pages of 7, following next_cursor to null`);

  const found = await persons.searchPersons({ term: email, fields: 'email', exact_match: true });
  check(found.data.items.length === 1 && found.data.items[0].item.id === id, 'search by email');
  check(found.data.items[0].item.emails[0] === email, 'search items carry emails as strings');
  console.log(`search: ${found.data.items.length} exact match, result_score=${found.data.items[0].result_score}`);

  const refused = await failure('a person without a name', () =>
    persons.addPerson({ AddPersonRequest: { emails: [{ value: 'x@fidelity.example' }] } }),
  );
  check(refused.success === false && typeof refused.error === 'string' && refused.data === null, `error body ${JSON.stringify(refused)}`);
  console.log(`invalid create: rejected with ${JSON.stringify(refused)}`);

  const deleted = await persons.deletePerson({ id });
  check(deleted.success && deleted.data.id === id, 'delete');
  const gone = await failure('get after delete', () => persons.getPerson({ id }));
  check(gone.success === false, 'deleted person is not found');
  console.log(`delete: id=${deleted.data.id}; a get afterwards answers ${JSON.stringify(gone.error)}`);
  console.log('pipedrive scenario: all steps as the real API answers them');
}

main(process.argv[2] || 'http://127.0.0.1:8090').catch((err) => {
  console.error(err instanceof Error ? err.stack : JSON.stringify(err));
  process.exit(1);
});
