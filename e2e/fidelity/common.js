// What every official-client scenario needs besides the client: a check that throws, the
// sandbox's control API for one CRM, and a call that must fail.
'use strict';

function check(condition, message) {
  if (!condition) {
    throw new Error(`surprise: ${message}`);
  }
}

/** The control API of one emulated CRM (`salesforce`, `pipedrive`…). */
function controlOf(crm) {
  return async function control(base, path, body, method = 'POST') {
    const response = await fetch(`${base}/_control/${crm}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`control ${method} ${path}: HTTP ${response.status} ${text}`);
    }
    return text ? JSON.parse(text) : null;
  };
}

/** Runs `call`, which must fail; returns what the client rejected with. */
async function failure(what, call) {
  try {
    await call();
  } catch (err) {
    return err;
  }
  throw new Error(`surprise: ${what} succeeded`);
}

/**
 * Approves a sandbox CRM's consent page as a person would: its text, and the address it sends
 * the browser back to (with `code` and `state`).
 */
async function approve(authorizationUrl) {
  const page = await fetch(authorizationUrl);
  check(page.status === 200, `consent page ${page.status}`);
  const text = await page.text();
  const [action, query] = authorizationUrl.split('?');
  const form = new URLSearchParams(query);
  form.set('decision', 'approve');
  const answer = await fetch(action, { method: 'POST', body: form, redirect: 'manual' });
  check(answer.status === 302, `consent answer ${answer.status}`);
  return { page: text, callback: new URL(answer.headers.get('location')) };
}

module.exports = { approve, check, controlOf, failure };
