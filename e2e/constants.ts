/** The operator admin that `tandem serve` creates on its first run (and its password, set by the config). */
export const ADMIN_EMAIL = 'admin@tandem.local';
export const ADMIN_PASSWORD = 'e2e-admin-password-123';
/** The demo tenant created on first run. */
export const DEMO_TENANT = 'Demo Company';
