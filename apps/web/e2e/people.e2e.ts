/**
 * People end-to-end test in headless Chromium against a running Berth server:
 * the admin invites a developer → the developer opens the one-time link in a fresh browser,
 * creates the account and is signed in → the admin grants them maintainer in `team-a` →
 * the developer sees why they cannot remove a tag outside team-a, and tags the image into
 * team-a → the admin protects `release-*` in team-a and tags team-a/app:release-1 → the
 * developer's removal of that tag is refused with the rule named → the developer creates a
 * robot token → the admin's audit page shows the developer's tag (ok) and refused removal
 * (denied, with the reason) under their name, and the invitation, acceptance and grant →
 * the admin resets the developer's password, which ends their session.
 *
 *   BASE_URL=http://127.0.0.1:3100 ADMIN_PASSWORD=admin-pass-1 ARCHIVE=/path/app-2.0.tar \
 *     npx tsx e2e/people.e2e.ts
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Page } from "playwright-core";
import { assert, auditRows, defaultOutDir, openBrowser, runWhenExecuted, signIn } from "./browser";

export interface PeopleE2EOptions {
  baseUrl: string;
  adminPassword: string;
  /** A docker-save archive of one tagged image; its first tag is what gets tagged into team-a. */
  archive: string;
  outDir?: string;
  log?: (line: string) => void;
}

const DEV = "erin";
const DEV_PASSWORD = "erin-e2e-password";
const NAMESPACE = "team-a";
const DEV_TAG = `${NAMESPACE}/app:dev-1`;
const RELEASE_TAG = `${NAMESPACE}/app:release-1`;

/** The tag row of the image page whose reference ends with `ref` (references may be normalised). */
const tagRow = (page: Page, ref: string) => page.locator(`[data-testid="image-tag"][data-ref$="${ref}"]`);

async function addTag(page: Page, ref: string): Promise<void> {
  await page.getByTestId("image-tag-input").fill(ref);
  await page.getByTestId("image-tag-add").click();
  await tagRow(page, ref).waitFor();
}

export async function runPeopleE2E(opts: PeopleE2EOptions): Promise<{ screenshots: string[] }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const base = opts.baseUrl.replace(/\/$/, "");
  const { browser, page, pageErrors, screenshots, shot, close } = await openBrowser({
    outDir: opts.outDir ?? defaultOutDir,
    prefix: "people",
  });
  let dev: Page | undefined;
  try {
    await signIn(page, base, opts.adminPassword);

    // 0. An image to work on, loaded by the admin through the API (the dashboard test covers the Load page).
    const load = await page.request.post(`${base}/api/images/load?source=${encodeURIComponent(path.basename(opts.archive))}`, {
      data: await readFile(opts.archive),
      headers: { "content-type": "application/x-tar", "x-berth-client": "web" },
    });
    const loadBody = (await load.json()) as { lines?: string[]; error?: string };
    const source = /Loaded image: (\S+)/.exec((loadBody.lines ?? []).join("\n"))?.[1];
    assert(load.ok() && source, `the admin loads ${opts.archive}: ${JSON.stringify(loadBody)}`);
    log(`e2e: loaded ${source}`);

    // 1. The admin invites erin as a developer and gets the one-time link.
    log(`e2e: invite ${DEV}`);
    await page.getByTestId("nav-people").click();
    await page.waitForURL(/\/people$/);
    await page.getByTestId("users-table").waitFor();
    await page.getByTestId("invite-open").click();
    await page.getByTestId("invite-role").selectOption("developer");
    await page.getByTestId("invite-username").fill(DEV);
    await page.getByTestId("invite-submit").click();
    const link = (await page.getByTestId("invite-link").innerText()).trim();
    assert(link.startsWith(`${base}/invite/`), `the invitation is a full link to this server: ${link}`);
    await shot("invite-link");
    await page.getByTestId("invite-done").click();
    await page.locator(`[data-testid="invite-row"][data-username="${DEV}"][data-state="pending"]`).waitFor();

    // 2. Erin opens it in a browser of their own, picks a password and is signed in.
    log(`e2e: ${DEV} accepts`);
    const devContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    dev = await devContext.newPage();
    dev.setDefaultTimeout(30_000);
    dev.on("pageerror", (err) => pageErrors.push(`${DEV}: ${err.message}`));
    await dev.goto(link);
    await dev.getByTestId("invite-offer").waitFor();
    assert((await dev.getByTestId("invite-offer-role").innerText()) === "developer", "the invitation page offers the developer role");
    assert((await dev.getByTestId("accept-username").inputValue()) === DEV, "the bound username is filled in");
    await dev.getByTestId("accept-password").fill(DEV_PASSWORD);
    await dev.getByTestId("accept-repeat").fill(DEV_PASSWORD);
    await shot("invite-accept", dev);
    await dev.getByTestId("accept-submit").click();
    await dev.waitForURL((url) => url.pathname === "/");
    await dev.getByTestId("current-user").filter({ hasText: DEV }).waitFor();
    assert((await dev.getByTestId("nav-people").count()) === 0, "People is not in a developer's menu");

    // What a developer may not do is disabled, and "Why?" asks the server for the reason.
    const prune = dev.locator('[data-testid="not-permitted"][data-action="prune"]');
    assert(await prune.getByTestId("images-prune").isDisabled(), "a developer cannot press Prune");
    await prune.getByTestId("why-not").click();
    const pruneWhy = prune.getByTestId("why-not-reason");
    await pruneWhy.filter({ hasText: "pruning" }).waitFor();
    assert(/pruning needs the maintainer role \(you are developer\)/i.test(await pruneWhy.innerText()), "Why? explains prune");
    await shot("developer-images", dev);
    await dev.keyboard.press("Escape");
    await dev.goto(`${base}/people`);
    await dev.getByText("Only an admin manages people").waitFor();

    // A second visit to the link is refused with the server's reason.
    const again = await devContext.newPage();
    await again.goto(link);
    const unusable = await again.getByTestId("invite-unusable").innerText();
    assert(/used already/.test(unusable), `a used link says so: ${unusable}`);
    await again.close();

    // 3. The admin raises erin to maintainer in team-a.
    log(`e2e: grant ${DEV} maintainer in ${NAMESPACE}`);
    await page.reload();
    const devRow = page.locator(`[data-testid="user-row"][data-username="${DEV}"]`);
    await devRow.waitFor();
    await devRow.getByTestId("user-access").click();
    await page.getByTestId("grant-namespace").fill(NAMESPACE);
    await page.getByTestId("grant-role").selectOption("maintainer");
    await page.getByTestId("grant-add").click();
    await page.locator(`[data-testid="grant-row"][data-namespace="${NAMESPACE}"]`).waitFor();
    await shot("grant");
    await page.getByTestId("access-done").click();
    await devRow.locator(`[data-testid="grant-badge"][data-namespace="${NAMESPACE}"]`).waitFor();
    await page.locator(`[data-testid="invite-row"][data-username="${DEV}"][data-state="used"]`).waitFor();
    await shot("people");

    // 4. Erin, on the image's page: removing its own tag is not theirs to do (and the page says why);
    //    tagging it into team-a is.
    log(`e2e: ${DEV} tags ${source} as ${DEV_TAG}`);
    await dev.getByTestId("nav-images").click();
    await dev.waitForURL((url) => url.pathname === "/");
    await dev.getByTestId("images-search").fill(source.slice(0, source.lastIndexOf(":")));
    await dev.locator(`[data-testid="image-row"][data-ref$="${source}"]`).first().click();
    await dev.waitForURL(/\/images\//);
    const imageUrl = dev.url();
    const sourceRow = tagRow(dev, source);
    await sourceRow.getByTestId("why-not").waitFor();
    assert(await sourceRow.getByTestId("image-tag-remove").isDisabled(), `${DEV} cannot press Remove on ${source}`);
    await sourceRow.getByTestId("why-not").click();
    const why = sourceRow.getByTestId("why-not-reason");
    await why.filter({ hasText: "maintainer" }).waitFor();
    const reason = await why.innerText();
    assert(/needs the maintainer role/.test(reason) && /developer/.test(reason), `Why? names the role needed and erin's: ${reason}`);
    await shot("why-not", dev);
    await dev.keyboard.press("Escape");
    await addTag(dev, DEV_TAG);
    await shot("developer-tagged", dev);

    // 5. The admin protects release-* in team-a and tags a release.
    log(`e2e: protect ${NAMESPACE} release-* and tag ${RELEASE_TAG}`);
    await page.getByTestId("nav-protection").click();
    await page.waitForURL(/\/protection$/);
    await page.getByTestId("protection-namespace").fill(NAMESPACE);
    await page.getByTestId("protection-pattern").fill("release-*");
    await page.getByTestId("protection-add").click();
    await page.locator(`[data-testid="protection-rule"][data-rule="${NAMESPACE} release-*"]`).waitFor();
    await page.goto(imageUrl);
    await page.getByTestId("image-overview").waitFor();
    await addTag(page, RELEASE_TAG);
    await tagRow(page, RELEASE_TAG).getByTestId("protected-tag").waitFor();

    // 6. Erin may remove tags in team-a, but not a protected one: the refusal names the rule.
    log(`e2e: ${DEV} tries to remove ${RELEASE_TAG}`);
    await dev.reload();
    const release = tagRow(dev, RELEASE_TAG);
    await release.getByTestId("protected-tag").waitFor();
    await release.getByTestId("image-tag-remove").click();
    const dialog = dev.getByTestId("remove-dialog");
    await dialog.getByTestId("remove-confirm").click();
    const refusal = await dialog.getByTestId("error-state").innerText();
    assert(
      refusal.includes(`protected by rule "release-*" in namespace ${NAMESPACE}`) && refusal.includes("only an admin"),
      `the refusal names the rule: ${refusal}`,
    );
    await shot("remove-refused", dev);
    await dialog.getByTestId("remove-done").click();
    await release.waitFor();

    // 7. Erin's robot token for CI: shown once, with what it cannot do yet; listed with its scope.
    log(`e2e: ${DEV} creates a robot token`);
    await dev.getByTestId("nav-tokens").click();
    await dev.waitForURL(/\/tokens$/);
    await dev.getByTestId("robot-name").fill("erin-ci");
    await dev.getByTestId("robot-namespaces").fill(`${NAMESPACE}, team-b`);
    await dev.getByTestId("robot-action-remove").check();
    await dev.getByTestId("robot-create").click();
    const secret = await dev.getByTestId("token-secret").innerText();
    assert(secret.startsWith("berth_"), `the robot's secret is shown: ${secret.slice(0, 8)}…`);
    const warnings = await dev.getByTestId("token-warnings").innerText();
    assert(/team-b/.test(warnings) && /remove/.test(warnings), `it warns that erin cannot remove in team-b: ${warnings}`);
    await shot("robot-token", dev);
    await dev.getByTestId("token-created-done").click();
    const robotRow = dev.locator('[data-testid="token-row"][data-name="erin-ci"][data-kind="robot"][data-state="active"]');
    const scope = await robotRow.getByTestId("token-scope").innerText();
    assert(scope.includes(`${NAMESPACE}, team-b`) && scope.includes("remove"), `the list shows the robot's scope: ${scope}`);

    // 8. The admin's audit page: erin's tag and refused removal, by name, beside the admin's own steps.
    log("e2e: audit");
    const rows = await auditRows(page, base);
    await shot("audit");
    const find = (action: string, actor: string, ...mentions: string[]) => {
      const hit = rows.find((r) => r.action === action && r.actor === actor && mentions.every((m) => r.text.includes(m)));
      assert(
        hit,
        `audit shows ${action} by ${actor} mentioning ${mentions.join(", ")}; rows: ${JSON.stringify(rows.map((r) => [r.action, r.actor]))}`,
      );
      return hit;
    };
    find("image.tag", DEV, DEV_TAG, "ok");
    find("image.remove", DEV, RELEASE_TAG, "denied", `protected by rule "release-*"`);
    find("image.tag", "admin", RELEASE_TAG, "ok");
    find("user.invite", "admin");
    find("user.invite-accept", DEV);
    find("grant.set", "admin", `user:${DEV}`, NAMESPACE);
    find("protection.rule.add", "admin");
    find("token.create", DEV, "robot:erin-ci");

    // 9. The admin resets erin's password: erin's session ends, and the temporary password (shown once) signs them in.
    log(`e2e: reset the password of ${DEV}`);
    await page.getByTestId("nav-people").click();
    await page.waitForURL(/\/people$/);
    await devRow.getByTestId("user-reset").click();
    await page.getByTestId("reset-confirm").click();
    const temporary = (await page.getByTestId("reset-temporary-password").innerText()).trim();
    assert(temporary.length >= 8, "a temporary password is shown");
    await shot("reset-password");
    await page.getByTestId("reset-done").click();
    await dev.goto(`${base}/`);
    await dev.waitForURL(/\/sign-in/);
    await dev.getByTestId("sign-in-username").fill(DEV);
    await dev.getByTestId("sign-in-password").fill(temporary);
    await dev.getByTestId("sign-in-submit").click();
    await dev.getByTestId("current-user").filter({ hasText: DEV }).waitFor();

    await devContext.close();
    assert(pageErrors.length === 0, `no uncaught page errors: ${pageErrors.join("; ")}`);
    log(`e2e: ok (${screenshots.length} screenshots)`);
    return { screenshots };
  } catch (err) {
    await shot("failure").catch(() => undefined);
    if (dev) await shot("failure-developer", dev).catch(() => undefined);
    throw err;
  } finally {
    await close();
  }
}

runWhenExecuted(import.meta.url, runPeopleE2E);
