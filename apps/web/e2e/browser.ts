/** What every dashboard e2e needs: headless Chromium, screenshots, signing in, page errors. */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export const defaultOutDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../test-results");

export interface E2EBrowser {
  browser: Browser;
  page: Page;
  /** Uncaught errors in the page so far. */
  pageErrors: string[];
  screenshots: string[];
  /** A full-page screenshot named `<prefix>-<nn>-<name>.png` in the output directory. */
  shot: (name: string, target?: Page) => Promise<void>;
  close: () => Promise<void>;
}

export async function openBrowser(opts: { outDir: string; prefix: string; executablePath?: string }): Promise<E2EBrowser> {
  await mkdir(opts.outDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: opts.executablePath ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const pageErrors: string[] = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  const screenshots: string[] = [];
  let step = 0;
  return {
    browser,
    page,
    pageErrors,
    screenshots,
    shot: async (name, target = page) => {
      const file = path.join(opts.outDir, `${opts.prefix}-${String(++step).padStart(2, "0")}-${name}.png`);
      await target.screenshot({ path: file, fullPage: true });
      screenshots.push(file);
    },
    close: () => browser.close(),
  };
}

/** Signs in through the form (an unauthenticated visitor is sent to /sign-in first). */
export async function signIn(page: Page, base: string, password: string, before?: () => Promise<void>): Promise<void> {
  await page.goto(`${base}/`);
  await page.waitForURL(/\/sign-in/);
  await page.getByTestId("sign-in-username").fill("admin");
  await page.getByTestId("sign-in-password").fill(password);
  await before?.();
  await page.getByTestId("sign-in-submit").click();
  await page.waitForURL((url) => url.pathname === "/");
  await page.getByTestId("current-user").filter({ hasText: "admin" }).waitFor();
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/** The audit page's rows as {action, actor, text}. */
export async function auditRows(page: Page, base: string): Promise<{ action: string; actor: string; text: string }[]> {
  await page.goto(`${base}/audit`);
  await page.getByTestId("audit-row").first().waitFor();
  return page.getByTestId("audit-row").evaluateAll((els) =>
    els.map((el) => ({
      action: el.getAttribute("data-action") ?? "",
      actor: el.getAttribute("data-actor") ?? "",
      text: el.textContent ?? "",
    })),
  );
}

/** Whether the audit page shows `action` by `actor` mentioning `mention`. */
export function auditShows(
  rows: { action: string; actor: string; text: string }[],
  action: string,
  mention: string,
  actor = "admin",
): boolean {
  return rows.some((r) => r.action === action && r.actor === actor && r.text.includes(mention));
}

/**
 * Runs an e2e script when its file is executed directly (`tsx e2e/<name>.e2e.ts`), against a
 * running server: BASE_URL, ADMIN_PASSWORD and ARCHIVE (a `docker save` tar, or the first argument).
 */
export function runWhenExecuted(
  moduleUrl: string,
  run: (opts: { baseUrl: string; adminPassword: string; archive: string }) => Promise<unknown>,
): void {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  const env = process.env;
  const baseUrl = env.BASE_URL;
  const adminPassword = env.ADMIN_PASSWORD;
  const archive = env.ARCHIVE ?? process.argv[2];
  if (!baseUrl || !adminPassword || !archive) {
    console.error(`usage: BASE_URL=… ADMIN_PASSWORD=… ARCHIVE=<docker-save .tar> tsx e2e/${path.basename(fileURLToPath(moduleUrl))}`);
    process.exit(2);
  }
  run({ baseUrl, adminPassword, archive }).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}
