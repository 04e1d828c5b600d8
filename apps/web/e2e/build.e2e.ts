/**
 * Build end-to-end test in headless Chromium against a running Berth server:
 * paste a Dockerfile on the Build page → the classic builder's output streams in → the image is
 * in the list → on its page, edit a file and commit → the new image's history carries the
 * message → the audit shows the build and the commit by "admin".
 */
import { assert, auditRows, auditShows, defaultOutDir, openBrowser, runWhenExecuted, signIn } from "./browser";

export interface BuildE2EOptions {
  baseUrl: string;
  adminPassword: string;
  outDir?: string;
  log?: (line: string) => void;
}

const DOCKERFILE = `FROM scratch AS base
LABEL org.opencontainers.image.title=e2e
ENV MODE=prod
WORKDIR /app
COPY <<EOF /app/config.txt
mode=prod
EOF
CMD ["/app/run"]
`;

export async function runBuildE2E(opts: BuildE2EOptions): Promise<{ screenshots: string[] }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const base = opts.baseUrl.replace(/\/$/, "");
  const { page, pageErrors, screenshots, shot, close } = await openBrowser({ outDir: opts.outDir ?? defaultOutDir, prefix: "build" });
  try {
    await signIn(page, base, opts.adminPassword);

    // 1. Paste a Dockerfile and build: the output streams in, ending with docker's lines.
    log("e2e: build e2e/built:1");
    await page.getByTestId("nav-build").click();
    await page.waitForURL(/\/build$/);
    await page.getByTestId("build-dockerfile").fill(DOCKERFILE);
    await page.getByTestId("build-tags").fill("e2e/built:1");
    await page.getByTestId("build-submit").click();
    await page.locator('[data-testid="build-job"] [data-testid="pull-status"][data-state="succeeded"]').waitFor({ timeout: 60_000 });
    const output = await page.getByTestId("pull-lines").innerText();
    await shot("built");
    assert(output.includes("Step 1/6 : FROM scratch AS base"), `the output starts with the first step:\n${output}`);
    assert(/Successfully built [0-9a-f]{12}/.test(output), `the output says the image was built:\n${output}`);
    assert(output.includes("Successfully tagged e2e/built:1"), `the output says the image was tagged:\n${output}`);

    // 2. The image is in the list; open it.
    await page.getByTestId("nav-images").click();
    await page.getByTestId("images-search").fill("e2e/built");
    await page.locator('[data-testid="image-row"]').filter({ hasText: "e2e/built" }).first().click();
    await page.waitForURL(/\/images\//);

    // 3. Edit the config file (loaded from the image) and commit under a new tag.
    log("e2e: commit e2e/built:edited");
    await page.getByTestId("image-edit-files").click();
    const dialog = page.getByTestId("commit-dialog");
    await dialog.getByTestId("commit-file-path").fill("/app/config.txt");
    await dialog.getByRole("button", { name: "Load current" }).click();
    const content = dialog.getByTestId("commit-file-content");
    await page.waitForFunction(() => {
      const el = document.querySelector<HTMLTextAreaElement>('[data-testid="commit-file-content"]');
      return el?.value.includes("mode=prod") ?? false;
    });
    await content.fill("mode=debug\n");
    await dialog.getByTestId("commit-reference").fill("e2e/built:edited");
    await dialog.getByTestId("commit-message").fill("switch to debug mode");
    await dialog.getByTestId("commit-submit").click();
    await dialog.getByTestId("commit-result").waitFor();
    await shot("committed");
    await dialog.getByTestId("commit-open").click();
    await page.waitForURL(/\/images\/sha256/);
    await page.getByText("switch to debug mode").first().waitFor();
    await page.getByText("e2e/built:edited").first().waitFor();
    await shot("committed-image");

    // 4. The audit page names both changes and who made them.
    const rows = await auditRows(page, base);
    await shot("audit");
    const has = (action: string, mention: string) => auditShows(rows, action, mention);
    assert(has("image.build", "e2e/built:1"), "audit shows image.build of e2e/built:1 by admin");
    assert(has("image.commit", "e2e/built:edited"), "audit shows image.commit of e2e/built:edited by admin");

    assert(pageErrors.length === 0, `no uncaught page errors: ${pageErrors.join("; ")}`);
    return { screenshots };
  } catch (err) {
    await shot("failure").catch(() => undefined);
    throw err;
  } finally {
    await close();
  }
}

runWhenExecuted(import.meta.url, (o) => runBuildE2E(o));
