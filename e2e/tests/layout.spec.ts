import type { Page } from '@playwright/test';

import { ADMIN_EMAIL, ADMIN_PASSWORD, expect, logIn, shot, test } from './fixtures';
import { appKey, connectHubspot, contactsToHubspot, createTenant, firstRunSucceeded, push } from './sync-helpers';

// Every page of the UI, with data on it, at laptop and tablet width: nothing runs off the side
// (a wide table scrolls inside its own box), and the keyboard reaches the content and the
// navigation, with the focus visible.

const TENANT = { name: 'Layout Works', slug: 'layout-works' };
const WIDTHS = [
  { width: 1280, height: 800 },
  { width: 820, height: 1180 },
];

/** Waits until the page has drawn what it loads. */
async function settled(page: Page) {
  await expect(page.locator('main')).toBeVisible();
  await expect(page.getByTestId('loading')).toHaveCount(0, { timeout: 15_000 });
}

/** The elements that reach past the right edge, for a readable failure. */
async function overflowing(page: Page, width: number): Promise<string[]> {
  return page.evaluate(
    (width) =>
      Array.from(document.querySelectorAll('body *'))
        .filter((e) => e.getBoundingClientRect().right > width + 1)
        .filter((e) => !e.closest('.table-wrap, pre, .code-scroll'))
        .slice(0, 8)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} [${e.getAttribute('data-testid') ?? ''}]`),
    width,
  );
}

test('every page fits laptop and tablet widths', async ({ page }) => {
  test.setTimeout(180_000);
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenant = await createTenant(page, TENANT);
  await connectHubspot(page, tenant.id);
  const key = await appKey(page, tenant.id);
  await push(page.request, key, [
    { id: 'layout-1', data: { email: 'ada@layout-works.example', last_name: 'Lovelace', phone: '+44 20 7946 0001' } },
    { id: 'layout-2', data: { email: 'bad@layout-works.example', last_name: 'Phone', phone: 'call me maybe' } },
  ]);
  const pipeline = await contactsToHubspot(page, tenant.id);
  await firstRunSucceeded(page, tenant.id, pipeline.id);

  const t = `/t/${tenant.id}`;
  const pages = [
    '/tenants',
    '/support',
    '/audit',
    '/demo',
    `${t}/environments`,
    `${t}/users`,
    `${t}/api-keys`,
    `${t}/audit`,
    `${t}/activate`,
    `${t}/connections`,
    `${t}/pipelines`,
    `${t}/pipelines/${pipeline.id}`,
    `${t}/pipelines/${pipeline.id}/mapping/forward`,
    `${t}/failed-records`,
    `${t}/alerts`,
  ];
  for (const size of WIDTHS) {
    await page.setViewportSize(size);
    for (const path of pages) {
      await page.goto(path);
      await settled(page);
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(scrollWidth, `${path} at ${size.width} px: ${(await overflowing(page, size.width)).join(', ')}`)
        .toBeLessThanOrEqual(size.width);
    }
  }
  // At tablet width, looked at: the pipeline page (runs table) and failed records.
  await page.goto(`${t}/pipelines/${pipeline.id}`);
  await settled(page);
  // The runs table stacks each run under labels: nothing of it is scrolled out of sight.
  const details = await page.getByTestId('run-details').first().boundingBox();
  expect(details!.x + details!.width).toBeLessThanOrEqual(820);
  await expect(page.getByTestId('run-row').first().locator('td[data-label="Duration"]')).toBeVisible();
  await shot(page, 'tablet-pipeline');
  await page.goto(`${t}/failed-records`);
  await settled(page);
  await expect(page.getByTestId('failed-record')).toHaveCount(1);
  await shot(page, 'tablet-failed-records');
});

test('the keyboard reaches the content and the navigation, with the focus visible', async ({ page }) => {
  await logIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const tenant = await createTenant(page, { name: 'Keyboard Works', slug: 'keyboard-works' });
  await page.goto(`/t/${tenant.id}/connections`);
  await settled(page);

  // The first Tab stop skips to the content.
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#main$/);

  // Tabbing on from the top reaches the navigation; every stop shows where the focus is.
  await page.goto(`/t/${tenant.id}/connections`);
  await settled(page);
  const seen: string[] = [];
  for (let i = 0; i < 40 && !seen.includes('nav-pipelines'); i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const e = document.activeElement as HTMLElement | null;
      if (!e || e === document.body) return null;
      const style = getComputedStyle(e);
      return {
        id: e.getAttribute('data-testid') ?? e.textContent?.trim().slice(0, 30) ?? e.tagName,
        visible: style.outlineStyle !== 'none' && style.outlineWidth !== '0px',
      };
    });
    if (!focused) continue;
    expect(focused.visible, `the focus on ${focused.id} is not visible`).toBe(true);
    seen.push(focused.id);
  }
  expect(seen).toContain('nav-pipelines');
  // Enter follows the focused link.
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/t/${tenant.id}/pipelines`));
  await expect(page).toHaveTitle('Pipelines · Tandem');
});
