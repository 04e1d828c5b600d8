/* eslint-disable no-restricted-properties -- the one place the testkit touches the environment */

/** Set by `globalSetup` for the test workers: the admin URL of the run's embedded server. */
export const TEST_PG_URL_ENV = "BERTH_TEST_PG_URL";

/** The server to create test databases on, if one is configured: DATABASE_URL, else the run's. */
export function configuredTestServerUrl(): string | undefined {
  return process.env.DATABASE_URL || process.env[TEST_PG_URL_ENV] || undefined;
}

export function setRunServerUrl(url: string | undefined): void {
  if (url === undefined) delete process.env[TEST_PG_URL_ENV];
  else process.env[TEST_PG_URL_ENV] = url;
}
