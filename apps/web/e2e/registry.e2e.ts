/**
 * Registry end-to-end test in headless Chromium against a running Berth server and two real
 * CNCF registries (an origin, and a mirror serving the same storage):
 * configure the mirror on the Registries page → pull from the dashboard with live progress →
 * the image is in the images list → the mirror's health shows the bytes it served → the audit
 * page shows the settings change and the pull by "admin" → tag it for another registry and push
 * it from the image page, following the push job.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Page } from "playwright-core";
import { pushOneLayerImage } from "@berth/fixtures/v2-push";
import { assert, auditRows, auditShows, defaultOutDir, openBrowser, signIn } from "./browser";

export interface RegistryE2EOptions {
  baseUrl: string;
  adminPassword: string;
  /** `127.0.0.1:PORT` of the origin registry holding `image`. */
  origin: string;
  /** `http://127.0.0.1:PORT` of a mirror of the origin. */
  mirrorUrl: string;
  /** Repository:tag on the origin, e.g. `fixtures/app:1.0`. */
  image: string;
  /** `127.0.0.1:PORT` of an empty registry to push to. */
  pushTo: string;
  outDir?: string;
  log?: (line: string) => void;
}

export async function runRegistryE2E(opts: RegistryE2EOptions): Promise<{ screenshots: string[] }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const base = opts.baseUrl.replace(/\/$/, "");
  const { page, pageErrors, screenshots, shot, close } = await openBrowser({ outDir: opts.outDir ?? defaultOutDir, prefix: "registry" });
  const ref = `${opts.origin}/${opts.image}`;
  try {
    await signIn(page, base, opts.adminPassword);

    // 1. The origin registry with one mirror, saved for the whole team.
    log(`e2e: configure ${opts.origin} with mirror ${opts.mirrorUrl}`);
    await page.getByTestId("nav-registries").click();
    await page.waitForURL(/\/registries$/);
    await page.getByTestId("add-registry-domain").fill(opts.origin);
    await page.getByTestId("add-registry-submit").click();
    const card = page.locator(`[data-testid="registry-card"][data-domain="${opts.origin}"]`);
    await card.waitFor();
    await card.getByTestId("mirror-new-url").fill(opts.mirrorUrl);
    await card.getByTestId("mirror-add").click();
    await card.getByTestId("registry-save").click();
    const mirrorRow = card.locator(`[data-testid="mirror-row"][data-url="${opts.mirrorUrl}"]`);
    await mirrorRow.waitFor();
    // The row shows as soon as it is added to the form; the form stops offering to discard only
    // once the save is done and read back. Reloading before that would lose it, as a person would.
    await card.getByRole("button", { name: "Discard changes" }).waitFor({ state: "detached" });
    await page.reload();
    await mirrorRow.waitFor();
    await shot("mirror-configured");

    // 2. Pull from the images page: the dialog follows the server job live.
    log(`e2e: pull ${ref}`);
    await page.getByTestId("nav-images").click();
    await page.waitForURL((url) => url.pathname === "/");
    await page.getByTestId("pull-open").click();
    await page.getByTestId("pull-ref").fill(ref);
    await page.getByTestId("pull-submit").click();
    const status = page.getByTestId("pull-status");
    await status.waitFor();
    const live = await status.getAttribute("data-live");
    await page.locator('[data-testid="pull-status"][data-state="succeeded"]').waitFor({ timeout: 120_000 });
    await shot("pulled");
    const lines = await page.getByTestId("pull-lines").innerText();
    assert(lines.includes(`Status: Downloaded newer image for ${ref}`), `the pull ends with docker's status line:\n${lines}`);
    const layers = await layerStatuses(page);
    assert(layers.length > 0 && layers.every((s) => s === "Pull complete"), `every layer shows Pull complete: ${layers.join(", ")}`);
    assert(live !== "error", `the dialog followed the job over the live stream (data-live=${live})`);
    await page.getByTestId("pull-close").click();

    // 3. The image is in the list.
    const repository = ref.slice(0, ref.lastIndexOf(":"));
    await page.getByTestId("images-search").fill(repository);
    await page.locator('[data-testid="image-row"]').filter({ hasText: repository }).first().waitFor();
    await shot("images-list");

    // 4. The mirror served it: its health shows bytes.
    await page.getByTestId("nav-registries").click();
    await page.waitForURL(/\/registries$/);
    // Health is recorded just after each request: allow it a moment to land.
    let served = "";
    for (let i = 0; i < 10; i++) {
      served = await mirrorRow.getByTestId("mirror-bytes-served").innerText();
      if (/[1-9]/.test(served)) break;
      await page.waitForTimeout(500);
      await page.reload();
    }
    assert(/[1-9]/.test(served), `the mirror shows the bytes it served: "${served}"`);
    await shot("mirror-health");

    // 5. Tag it for the other registry and push it from its page.
    const target = `${opts.pushTo}/e2e/pushed:1.0`;
    log(`e2e: push ${target}`);
    await page.getByTestId("nav-images").click();
    await page.getByTestId("images-search").fill(repository);
    await page.locator('[data-testid="image-row"]').filter({ hasText: repository }).first().click();
    await page.waitForURL(/\/images\//);
    await page.getByTestId("image-tag-input").fill(target);
    await page.getByTestId("image-tag-add").click();
    await page.locator(`[data-testid="image-tag"][data-ref="${target}"]`).waitFor();
    await page.getByTestId("image-push").click();
    await page.getByTestId("push-ref").selectOption({ label: target });
    await page.getByTestId("push-submit").click();
    await page.locator('[data-testid="pull-status"][data-state="succeeded"]').waitFor({ timeout: 120_000 });
    const pushLines = await page.getByTestId("pull-lines").innerText();
    await shot("pushed");
    assert(/^1\.0: digest: sha256:[0-9a-f]{64} size: \d+$/m.test(pushLines), `the push ends with docker's digest line:\n${pushLines}`);
    await page.getByTestId("push-close").click();

    // 6. A big layer pushed to Berth's own /v2/ whose config claims another diff_id: the push is
    // answered, the layer-check job after it finds the mismatch, and the image page says so.
    log("e2e: push an image whose big layer does not match its config");
    const imageId = await pushMismatchedImage(base, opts.adminPassword, "e2e/mismatch:1.0");
    await page.goto(`${base}/images/${encodeURIComponent(imageId)}`);
    const problem = page.getByRole("alert").filter({ hasText: "This image does not match its config" });
    await problem.waitFor({ timeout: 60_000 });
    await shot("layer-mismatch");
    const problemText = await problem.innerText();
    assert(
      /layer 1 \(sha256:[0-9a-f]{64}\) uncompresses to sha256:[0-9a-f]{64}, but the image's config lists sha256:/.test(problemText),
      `the page names the layer and both digests:\n${problemText}`,
    );

    // 7. The audit page shows who changed the settings, who pulled and who pushed.
    const rows = await auditRows(page, base);
    await shot("audit");
    const has = (action: string, mention: string) => auditShows(rows, action, mention);
    assert(has("registry.save", opts.origin), `audit shows registry.save of ${opts.origin} by admin`);
    assert(has("image.pull", opts.image), `audit shows image.pull of ${opts.image} by admin`);
    assert(has("image.push", "e2e/pushed"), "audit shows image.push of e2e/pushed by admin");
    assert(has("image.layer-check", "e2e/mismatch"), "audit shows the failed image.layer-check of e2e/mismatch by admin");

    assert(pageErrors.length === 0, `no uncaught page errors: ${pageErrors.join("; ")}`);
    return { screenshots };
  } catch (err) {
    await shot("failure").catch(() => undefined);
    throw err;
  } finally {
    await close();
  }
}

async function layerStatuses(page: Page): Promise<string[]> {
  return page.getByTestId("pull-layer").evaluateAll((els) => els.map((el) => el.querySelector("span span")?.textContent ?? ""));
}

/**
 * Pushes through Berth's /v2/ a one-layer image whose 17 MiB gzip layer (above the size checked
 * before the push is answered) does not uncompress to the diff_id its config lists; returns the image ID.
 */
async function pushMismatchedImage(base: string, password: string, ref: string): Promise<string> {
  const [repository, tag] = ref.split(":") as [string, string];
  const basic = Buffer.from(`admin:${password}`).toString("base64");
  const tokenRes = await fetch(`${base}/v2/token?service=berth&scope=repository:${repository}:pull,push`, {
    headers: { authorization: `Basic ${basic}` },
  });
  const { token } = (await tokenRes.json()) as { token: string };
  const diffId = `sha256:${createHash("sha256").update("not this layer").digest("hex")}`;
  const tar = randomBytes(17 * 1024 * 1024);
  const pushed = await pushOneLayerImage({ base, authorization: `Bearer ${token}`, repository, tag, tar, diffId });
  assert(pushed.res.status === 201, `the manifest PUT is answered at once (${pushed.res.status}): the layer is checked after`);
  return pushed.imageId;
}
