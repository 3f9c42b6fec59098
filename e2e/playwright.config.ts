import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ADMIN_PASSWORD } from './constants';

// Runs the real server (`tandem serve`) on a fresh SQLite database and drives the built UI
// (frontend/dist, made by scripts/build-frontend) in the system's Chromium. Playwright never
// downloads a browser here.
//
//   cargo build -p tandem && scripts/build-frontend && cd e2e && npm ci && npx playwright test
//
// Environment: TANDEM_BIN (server binary), CARGO_TARGET_DIR (where to find it otherwise),
// CHROMIUM_PATH (default /usr/bin/chromium), E2E_PORT (default 18181),
// E2E_SERVER_LOG_FILTER (server log filter shown on stderr, default "error").
// Every page visited is saved as e2e/screenshots/<name>.png.

const port = Number(process.env.E2E_PORT || 18181);
export const baseURL = `http://127.0.0.1:${port}`;

const targetDir = process.env.CARGO_TARGET_DIR || path.join(process.env.HOME || os.homedir(), '.cache/tandem-target');
const tandemBin = process.env.TANDEM_BIN || path.join(targetDir, 'debug/tandem');
const uiDir = path.resolve(__dirname, '../frontend/dist');

// This file is evaluated again in every worker; they must agree on one data directory. Tests
// read both variables to run CLI commands against the same database.
process.env.TANDEM_E2E_DATA_DIR ||= fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-'));
process.env.TANDEM_E2E_BIN = tandemBin;

export default defineConfig({
  testDir: './tests',
  globalTeardown: './global-teardown.ts',
  workers: 1,
  retries: 0,
  reporter: 'list',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: `"${tandemBin}" serve`,
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      TANDEM_DATA_DIR: process.env.TANDEM_E2E_DATA_DIR,
      TANDEM_SERVER__PORT: String(port),
      TANDEM_SERVER__UI_DIR: uiDir,
      TANDEM_BOOTSTRAP__ADMIN_PASSWORD: ADMIN_PASSWORD,
      TANDEM_LOG__FORMAT: 'json',
      // Demos change records every two seconds, and go quiet after two minutes so that a demo
      // started by one spec does not keep the server busy during the others.
      TANDEM_DEMO__TICK_SECONDS: '2',
      TANDEM_DEMO__ACTIVITY_MINUTES: '2',
      // The server's log goes to stderr, which is shown here: errors only, unless asked for more.
      TANDEM_LOG__FILTER: process.env.E2E_SERVER_LOG_FILTER || 'error',
    },
  },
});
