/**
 * Dashboard end-to-end test: drives the real UI in headless Chromium (playwright-core,
 * system /usr/bin/chromium) against a running Berth server.
 *
 *   BASE_URL=http://127.0.0.1:3100 ADMIN_PASSWORD=admin-pass-1 ARCHIVE=/path/app-1.0.tar \
 *     npx tsx e2e/dashboard.e2e.ts
 *
 * Steps: sign in → load the archive → tag the image → remove that tag → prune → the audit
 * page shows every step done by "admin". Screenshots go to apps/web/test-results/.
 * Exit code 0 on success; on failure the error is printed and a screenshot saved.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { assert, auditRows, defaultOutDir, openBrowser, runWhenExecuted, signIn } from "./browser";

export interface DashboardE2EOptions {
  baseUrl: string;
  adminPassword: string;
  archive: string;
  /** Where screenshots go (default: apps/web/test-results). */
  outDir?: string;
  executablePath?: string;
  log?: (line: string) => void;
}

export async function runDashboardE2E(opts: DashboardE2EOptions): Promise<{ screenshots: string[] }> {
  const outDir = opts.outDir ?? defaultOutDir;
  const log = opts.log ?? ((line: string) => console.log(line));
  const base = opts.baseUrl.replace(/\/$/, "");
  const { page, pageErrors, screenshots, shot, close } = await openBrowser({
    outDir,
    prefix: "dashboard",
    executablePath: opts.executablePath,
  });

  try {
    // 1. Sign in. Unauthenticated visitors are sent to /sign-in first.
    log("e2e: sign in");
    await signIn(page, base, opts.adminPassword, () => shot("sign-in"));
    await shot("images-before");

    // 2. Load the archive through the upload page.
    log(`e2e: load ${opts.archive}`);
    await page.getByTestId("nav-load").click();
    await page.waitForURL(/\/load$/);
    await page.getByTestId("load-file-input").setInputFiles(opts.archive);
    const output = page.getByTestId("load-output");
    await Promise.race([
      output.waitFor({ timeout: 120_000 }),
      page
        .getByTestId("error-state")
        .waitFor({ timeout: 120_000 })
        .then(async () => {
          throw new Error(`load failed: ${await page.getByTestId("error-state").innerText()}`);
        }),
    ]);
    const loadText = await output.innerText();
    await shot("load-result");
    const loaded = /Loaded image: (\S+)/.exec(loadText)?.[1];
    assert(loaded, `load output names a tagged image:\n${loadText}`);
    log(`e2e: loaded ${loaded}`);

    // 3. Find it in the images table (search + row click) and add a tag on its page.
    const repository = loaded.slice(0, loaded.lastIndexOf(":"));
    await page.getByTestId("nav-images").click();
    await page.waitForURL((url) => url.pathname === "/");
    await page.getByTestId("images-search").fill(repository);
    await page.getByTestId("image-row").first().click();
    await page.waitForURL(/\/images\//);
    await page.getByTestId("image-overview").waitFor();
    const newTag = `e2e/tagged:${Date.now().toString(36)}`;
    log(`e2e: tag ${loaded} as ${newTag}`);
    await page.getByTestId("image-tag-input").fill(newTag);
    await page.getByTestId("image-tag-add").click();
    const tagRow = page.locator(`[data-testid="image-tag"][data-ref$="${newTag}"]`);
    await tagRow.waitFor();
    await shot("image-tagged");

    // 4. Remove that tag again.
    log(`e2e: remove ${newTag}`);
    await tagRow.getByTestId("image-tag-remove").click();
    await page.getByTestId("remove-dialog").getByTestId("remove-confirm").click();
    const removeOutput = page.getByTestId("remove-output");
    await removeOutput.waitFor();
    const removeText = await removeOutput.innerText();
    assert(
      removeText.includes("Untagged:") && removeText.includes(newTag.split(":")[1]!),
      `remove output untags ${newTag}:\n${removeText}`,
    );
    await shot("tag-removed");
    await page.getByTestId("remove-done").click();
    await tagRow.waitFor({ state: "detached" });

    // 5. Prune (dangling images) with the dry-run preview first.
    log("e2e: prune");
    await page.getByTestId("nav-images").click();
    await page.waitForURL((url) => url.pathname === "/");
    await page.getByTestId("images-prune").click();
    await page.getByTestId("prune-preview").waitFor();
    await shot("prune-preview");
    await page.getByTestId("prune-confirm").click();
    await page.getByTestId("prune-result").waitFor();
    await shot("prune-result");
    await page.getByTestId("prune-done").click();

    // 5b. Select the loaded image and download it as one docker save archive.
    log(`e2e: download ${loaded}`);
    await page.getByTestId("images-search").fill(repository);
    await page.getByLabel(`Select ${loaded}`).check();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("images-save").click()]);
    const saved = path.join(outDir, "download.tar");
    await download.saveAs(saved);
    const members = execFileSync("tar", ["-tf", saved], { encoding: "utf8" }).split("\n");
    assert(
      members.includes("manifest.json") && members.includes("index.json"),
      `the download is a docker save archive: ${members.join(" ")}`,
    );
    const manifest = JSON.parse(execFileSync("tar", ["-xOf", saved, "manifest.json"], { encoding: "utf8" })) as { RepoTags: string[] }[];
    assert(manifest[0]?.RepoTags.includes(loaded), `the archive is tagged ${loaded}: ${JSON.stringify(manifest)}`);

    // 5c. A mistyped job address says what is wrong with it, not that the page failed.
    await page.goto(`${base}/jobs/not-a-job`);
    const noJob = page.getByTestId("error-state");
    await noJob.waitFor();
    const noJobText = await noJob.innerText();
    assert(noJobText.includes("No such job") && noJobText.includes('"not-a-job" is not a job id'), `the job page explains: ${noJobText}`);

    // 6. The audit page lists every step, done by admin.
    log("e2e: audit");
    const rows = await auditRows(page, base);
    await shot("audit");
    const expect = (action: string, mention?: string) => {
      const hit = rows.find((r) => r.action === action && r.actor === "admin" && (!mention || r.text.includes(mention)));
      assert(
        hit,
        `audit shows ${action}${mention ? ` of ${mention}` : ""} by admin; rows: ${JSON.stringify(rows.map((r) => [r.action, r.actor]))}`,
      );
    };
    expect("auth.sign-in");
    expect("image.load");
    expect("image.tag", newTag);
    expect("image.remove", newTag);
    expect("image.prune");
    expect("image.save", loaded);

    assert(pageErrors.length === 0, `no uncaught page errors: ${pageErrors.join("; ")}`);
    log(`e2e: ok (${screenshots.length} screenshots in ${outDir})`);
    return { screenshots };
  } catch (err) {
    await shot("failure").catch(() => undefined);
    throw err;
  } finally {
    await close();
  }
}

runWhenExecuted(import.meta.url, runDashboardE2E);
