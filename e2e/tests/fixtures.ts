import { test as base, expect, type Browser, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

import { DEMO_TENANT } from '../constants';

export { expect };
export { ADMIN_EMAIL, ADMIN_PASSWORD, DEMO_TENANT } from '../constants';

/**
 * Chromium reports every non-2xx fetch as a console error ("Failed to load resource: the server
 * responded with a status of 401"). Those are expected in exactly the places listed here (and in
 * `errorWatch.allow(...)` calls in a test); everything else on the console at level "error",
 * and every uncaught page error, fails the test.
 */
const EXPECTED_HTTP_ERRORS: Array<{ path: string | RegExp; status: number }> = [
  // Every page load asks whether the cookie still holds a session; logged out, that is a 401.
  { path: '/api/v1/auth/session', status: 401 },
];

export class ErrorWatch {
  readonly errors: string[] = [];
  private readonly allowed = [...EXPECTED_HTTP_ERRORS];

  /** Expect `status` from `pathname` (exact, or a pattern) in this test (a wrong password, say). */
  allow(pathname: string | RegExp, status: number) {
    this.allowed.push({ path: pathname, status });
  }

  watch(page: Page) {
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      const failed = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(text);
      if (failed) {
        const status = Number(failed[1]);
        const pathname = new URL(message.location().url).pathname;
        const matches = (p: string | RegExp) => (typeof p === 'string' ? p === pathname : p.test(pathname));
        if (this.allowed.some((a) => a.status === status && matches(a.path))) return;
      }
      this.errors.push(`console error on ${page.url()}: ${text} (${message.location().url})`);
    });
    page.on('pageerror', (error) => this.errors.push(`page error on ${page.url()}: ${error.message}`));
  }
}

export const test = base.extend<{ errorWatch: ErrorWatch }>({
  errorWatch: [
    async ({ context }, use) => {
      const watch = new ErrorWatch();
      context.pages().forEach((page) => watch.watch(page));
      context.on('page', (page) => watch.watch(page));
      await use(watch);
      expect(watch.errors, 'the browser console shows no errors').toEqual([]);
    },
    { auto: true },
  ],
});

/** A page in a brand-new browser context (no cookies), watched like the test's own page. */
export async function freshPage(browser: Browser, watch: ErrorWatch): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  watch.watch(page);
  return page;
}

/** A full-page screenshot in e2e/screenshots/<name>.png. */
export async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(__dirname, '..', 'screenshots', `${name}.png`), fullPage: true });
}

/** Logs in on the login page and waits until the app has left it. */
export async function logIn(page: Page, email: string, password: string) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).not.toHaveURL(/\/login/);
  await expect(page.getByTestId('current-user')).toBeVisible();
}

/** Opens the demo tenant from the tenant list and returns its id. */
export async function openDemoTenant(page: Page): Promise<string> {
  await page.goto('/tenants');
  await page.getByTestId('tenant-table').getByRole('link', { name: DEMO_TENANT }).click();
  await expect(page).toHaveURL(/\/t\/[0-9a-f-]{36}\/environments$/);
  const match = /\/t\/([0-9a-f-]{36})\//.exec(page.url());
  if (!match) throw new Error(`no tenant id in ${page.url()}`);
  return match[1];
}

/** Operator staff other than admins are created with the CLI, against the server's database. */
export function addOperatorStaff(email: string, role: 'support' | 'sales', password: string) {
  const bin = process.env.TANDEM_E2E_BIN;
  const dataDir = process.env.TANDEM_E2E_DATA_DIR;
  if (!bin || !dataDir) throw new Error('playwright.config.ts sets TANDEM_E2E_BIN and TANDEM_E2E_DATA_DIR');
  execFileSync(bin, ['user', 'add', '--email', email, '--role', role, '--password-stdin'], {
    input: `${password}\n`,
    env: { ...process.env, TANDEM_DATA_DIR: dataDir, TANDEM_LOG__FILTER: 'error' },
    stdio: ['pipe', 'ignore', 'inherit'],
  });
}
