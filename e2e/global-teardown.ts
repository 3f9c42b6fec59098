import * as fs from 'node:fs';

/** Removes the run's data directory (database, key file) once every test is done. */
export default async function globalTeardown() {
  const dir = process.env.TANDEM_E2E_DATA_DIR;
  if (dir && dir.includes('tandem-e2e-')) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
