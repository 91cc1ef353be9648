// Browser tests of the web client: Playwright (playwright-core) driving Debian's chromium
// against the running stack behind nginx. Run by tests/web/test_browser.py:
//   BASE_URL=http://127.0.0.1:PORT ADMIN_USER=.. ADMIN_PASSWORD=.. SHOTS_DIR=docs/web node tests/e2e.mjs
// Prints one line "RESULT <json>" (timings, axe findings); exits 1 on the first failure.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const BASE = process.env.BASE_URL || "http://127.0.0.1:8080";
const SHOTS = process.env.SHOTS_DIR || "";
const SUFFIX = process.env.RUN_ID || String(Date.now() % 1e8);
const PASSWORD = "password1";
const TIMEOUT = 10000;
const result = { pages: {}, axe: {}, timings: {}, steps: [], skipped: [] };
const pages = [];

// A real 64x48 PNG (the server decodes images: decision 10).
const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000400000003008020000002e29eb480000005349444154789cedcf410dc02000c040400d72908dac89e07159d253d0ce7bf6f8b3a5035e35a035a035a035a035a035a035a035a035a035a035a035a035a035a035a035a035a035a035a035a035a035a035a07d2a5c01a01b5bdbd90000000049454e44ae426082", "hex");

function step(name) { result.steps.push(name); console.error(`[e2e] ${name}`); }
function assert(cond, msg) { if (!cond) throw new Error("assertion failed: " + msg); }

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});

async function newUser(options = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, ...options });
  // No shortened polling: the LIKE must arrive over the event stream (the fallback polls
  // every 30 s, past the wait below).
  ctx.setDefaultTimeout(TIMEOUT);
  const page = await ctx.newPage();
  page.on("pageerror", (err) => console.error("[page error]", err.message));
  page.on("console", (msg) => { if (msg.type() === "error") console.error("[console]", msg.text()); });
  pages.push(page);
  return { ctx, page };
}

async function axe(page, name) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    // @ts-ignore
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  result.axe[name] = violations.map((v) => `${v.impact}:${v.id}`);
  assert(bad.length === 0, `axe on ${name}: ${JSON.stringify(bad)}`);
}

/** axe, then screenshots at 1440 px and at 375 px. */
async function capture(page, name) {
  await page.waitForLoadState("networkidle").catch(() => {});
  await axe(page, name);
  result.pages[name] = page.url().replace(BASE, "");
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  const size = page.viewportSize();
  await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(100);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, `${name} scrolls sideways at 375 px (${overflow} px)`);
  await page.screenshot({ path: join(SHOTS, `${name}-375.png`), fullPage: true });
  await page.setViewportSize(size);
}

async function register(page, name) {
  await page.goto(BASE + "/register");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Email").fill(`${name}@example.com`);
  await page.getByLabel("Password (at least 8 characters)").fill(PASSWORD);
  await page.getByRole("button", { name: "Register" }).click();
  await page.getByRole("link", { name }).waitFor();
}

async function login(page, name, password = PASSWORD) {
  await page.goto(BASE + "/login");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

try {
  const alice = await newUser();
  const bob = await newUser();
  const aliceName = `alice_${SUFFIX}`, bobName = `bob_${SUFFIX}`;

  step("anonymous pages: board, register, login");
  await alice.page.goto(BASE + "/");
  await alice.page.getByRole("heading", { name: "Board" }).waitFor();
  await capture(alice.page, "board-empty");
  await alice.page.goto(BASE + "/register");
  await capture(alice.page, "register");
  await alice.page.goto(BASE + "/login");
  await capture(alice.page, "login");

  step("register alice, log out, log in again");
  await register(alice.page, aliceName);
  await alice.page.getByRole("button", { name: "Log out" }).click();
  await alice.page.getByRole("link", { name: "Log in" }).waitFor();
  await login(alice.page, aliceName);
  await alice.page.getByRole("link", { name: aliceName }).waitFor();

  step("compose: type check, preview, post with an image");
  await alice.page.goto(BASE + "/compose");
  await alice.page.getByLabel("Title").fill("Hello from the browser");
  await alice.page.getByLabel("Content").fill("A post with an image, made by Playwright.");
  await alice.page.getByLabel(/^Image/).setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hi") });
  await alice.page.getByText("The image must be a JPEG or PNG file.").waitFor();
  await alice.page.getByLabel(/^Image/).setInputFiles({ name: "dot.png", mimeType: "image/png", buffer: PNG });
  await alice.page.getByAltText("Preview of the chosen image").waitFor();
  await capture(alice.page, "compose");
  await alice.page.getByRole("button", { name: "Post" }).click();
  await alice.page.waitForURL(/\/posts\/\d+$/);
  const postUrl = alice.page.url();
  await alice.page.getByRole("heading", { name: "Hello from the browser" }).waitFor();
  await alice.page.locator("img.full").waitFor();

  step("the board shows the post with its thumbnail; first-posts time");
  const t0 = Date.now();
  await alice.page.goto(BASE + "/");
  await alice.page.locator(".posts li").first().waitFor();
  result.timings.board_first_posts_ms = Date.now() - t0;
  result.timings.board_first_posts_in_page_ms = Math.round(await alice.page.evaluate(() => window.ibBoardShown || -1));
  assert(await alice.page.getByRole("link", { name: "Hello from the browser" }).isVisible(), "post on the board");
  assert(await alice.page.locator(".posts li img.thumb").count() >= 1, "thumbnail on the board");
  await capture(alice.page, "board");

  step("bob registers, comments; a failed send keeps the typed comment");
  await register(bob.page, bobName);
  await bob.page.goto(postUrl);
  const box = bob.page.getByLabel("Your comment");
  await box.fill("Nice post, Alice!");
  await bob.page.route("**/api/comments/", (route) => route.abort(), { times: 1 });
  await bob.page.getByRole("button", { name: "Comment" }).click();
  await bob.page.getByText("The server could not be reached").waitFor();
  assert(await box.inputValue() === "Nice post, Alice!", "comment kept after an error");
  await bob.page.getByRole("button", { name: "Comment" }).click();
  await bob.page.locator(".comment").getByText("Nice post, Alice!").waitFor();
  assert(await box.inputValue() === "", "comment box emptied after success");

  step("alice replies to bob in the thread");
  await alice.page.goto(postUrl);
  await alice.page.locator(".comment").getByRole("button", { name: "Reply" }).first().click();
  await alice.page.getByLabel(`Reply to ${bobName}`).fill("Thanks, Bob!");
  await alice.page.getByRole("button", { name: "Send reply" }).click();
  await alice.page.locator(".replies .comment").getByText("Thanks, Bob!").waitFor();
  await capture(alice.page, "thread");

  step("alice waits on her notifications; bob likes; the LIKE appears live");
  await alice.page.goto(BASE + "/notifications");
  await alice.page.getByTestId("notifications").waitFor();
  const likesBefore = await alice.page.locator('[data-type="LIKE"]').count();
  await bob.page.goto(postUrl);
  await bob.page.getByRole("button", { name: /Like/ }).click();
  await bob.page.getByRole("button", { name: /Liked/ }).waitFor();
  assert(await bob.page.getByTestId("likes-count").innerText() === "1", "likes_count 1");
  const tLike = Date.now();
  await alice.page.waitForFunction((n) => document.querySelectorAll('[data-type="LIKE"]').length > n, likesBefore, { timeout: 15000 });
  result.timings.like_notification_ms = Date.now() - tLike;
  result.live_mode = await alice.page.getByTestId("unread-badge").getAttribute("data-live");
  assert(result.live_mode === "stream", `the badge is live over the event stream, not ${result.live_mode}`);
  await capture(alice.page, "notifications");
  await alice.page.getByRole("button", { name: "Mark all as read" }).click();
  await alice.page.waitForFunction(() => document.querySelector('[data-testid="unread-badge"]')?.hasAttribute("hidden"));

  step("API docs: Swagger UI served locally, try-it authorized with the web client's token");
  {
    const docs = await alice.ctx.newPage();
    const external = [];
    docs.on("request", (r) => { if (!r.url().startsWith(BASE) && !r.url().startsWith("data:")) external.push(r.url()); });
    await docs.goto(BASE + "/api/docs/");
    const op = docs.locator("#operations-users-get_me");
    await op.waitFor();
    assert(await docs.locator(".authorization__btn svg, button.authorize svg").count() > 0, "lock icons drawn");
    // Before try-it: the screenshot must not show the token the request carries.
    if (SHOTS) await docs.screenshot({ path: join(SHOTS, "api-docs-desktop.png") });
    await op.locator(".opblock-summary").first().click();
    await op.getByRole("button", { name: "Try it out" }).click();
    await op.getByRole("button", { name: "Execute" }).click();
    await op.locator(".live-responses-table tbody .response-col_status").first().waitFor();
    const status = (await op.locator(".live-responses-table tbody .response-col_status").first().innerText()).trim();
    assert(status.startsWith("200"), `try-it GET /api/users/me/ answered ${status}`);
    assert(external.length === 0, "no request leaves the site: " + external.join(", "));
    await docs.close();
  }

  step("alice's profile");
  await alice.page.goto(BASE + "/profile");
  await alice.page.getByRole("heading", { name: "Profile" }).waitFor();
  await alice.page.getByLabel("About you").fill("I post pictures of dots.");
  await alice.page.getByRole("button", { name: "Save profile" }).click();
  await alice.page.getByText("Saved.").waitFor();
  await alice.page.getByLabel(/^New avatar/).setInputFiles({ name: "face.png", mimeType: "image/png", buffer: PNG });
  await alice.page.locator("img.avatar").first().waitFor();
  const [download] = await Promise.all([
    alice.page.waitForEvent("download"),
    alice.page.getByRole("button", { name: "Download my data" }).click(),
  ]);
  const exported = JSON.parse(await (await import("node:fs/promises")).readFile(await download.path(), "utf8"));
  assert(exported.profile?.username === aliceName && exported.posts?.length >= 1, "export holds the profile and the post");
  await capture(alice.page, "profile");

  if (process.env.ADMIN_USER) {
    step("admin pages");
    const admin = await newUser();
    await login(admin.page, process.env.ADMIN_USER, process.env.ADMIN_PASSWORD || PASSWORD);
    await admin.page.getByRole("link", { name: "Admin" }).waitFor();
    for (const [path, name] of [["/admin", "admin-reports"], ["/admin/bans", "admin-bans"], ["/admin/modlog", "admin-modlog"]]) {
      await admin.page.goto(BASE + path);
      await admin.page.getByRole("heading", { name: "Admin" }).waitFor();
      await capture(admin.page, name);
    }
    const aliceId = await alice.page.evaluate(async () => (await (await fetch("/api/users/me/", {
      headers: { Authorization: "Bearer " + localStorage.getItem("ib.token") } })).json()).id);
    await admin.page.goto(BASE + "/admin/analytics");
    await admin.page.locator(".uplot").first().waitFor();
    await admin.page.getByLabel("Activity of user id (empty: you)").fill(String(aliceId));
    await admin.page.getByRole("button", { name: "Show" }).click();
    await admin.page.locator(".u-title", { hasText: `Activity of user ${aliceId}, last 30 days` }).waitFor();
    await capture(admin.page, "admin-analytics");

    const token = (p) => p.evaluate(() => localStorage.getItem("ib.token"));
    {
      step("bob reports a post; the admin removes it from the queue; it vanishes for the others");
      const spamId = await alice.page.evaluate(async (t) => {
        const form = new FormData(); form.set("title", "Buy cheap watches"); form.set("content", "Spam for the report test");
        return (await (await fetch("/api/posts/", { method: "POST", body: form, headers: { Authorization: "Bearer " + t } })).json()).id;
      }, await token(alice.page));
      await bob.page.goto(`${BASE}/posts/${spamId}`);
      await bob.page.locator("article.post .actions").getByRole("button", { name: "Report" }).click();
      await bob.page.getByLabel("Reason").selectOption("spam");
      await bob.page.getByRole("button", { name: "Send report" }).click();
      await bob.page.getByText("the report was sent to the moderators").waitFor();
      await admin.page.goto(BASE + "/admin?status=open");
      const card = admin.page.locator(".reports li", { hasText: "Buy cheap watches" }).first();
      await card.waitFor();
      await capture(admin.page, "admin-reports-open");
      {
        await card.getByRole("button", { name: "Remove content" }).click();
        await card.waitFor({ state: "detached" });
        await bob.page.goto(`${BASE}/posts/${spamId}`);
        await bob.page.locator(".error").waitFor();
        await bob.page.goto(BASE + "/");
        await bob.page.locator(".posts li").first().waitFor();
        assert(await bob.page.getByText("Buy cheap watches").count() === 0, "removed post gone from the board");
      }

      step("the admin bans bob; bob's compose shows the ban; the ban is lifted");
      const bobId = await bob.page.evaluate(async (t) => (await (await fetch("/api/users/me/", { headers: { Authorization: "Bearer " + t } })).json()).id, await token(bob.page));
      await admin.page.goto(BASE + "/admin/bans");
      await admin.page.getByLabel("User id").fill(String(bobId));
      await admin.page.getByLabel("Reason").fill("spam");
      await admin.page.getByLabel("Days (empty: permanent)").fill("1");
      await admin.page.getByRole("button", { name: "Ban", exact: true }).click();
      await admin.page.getByText(`User ${bobId} banned.`).waitFor();
      await bob.page.waitForTimeout(1100);  // bans apply within 1 s (contract v2 §3.3)
      await bob.page.goto(BASE + "/compose");
      await bob.page.getByTestId("ban-notice").waitFor();
      assert(await bob.page.getByRole("button", { name: "Post" }).isDisabled(), "a banned user cannot post");
      await capture(bob.page, "compose-banned");
      await admin.page.getByRole("button", { name: "Lift ban" }).click();
      await admin.page.getByText(`User ${bobId} unbanned.`).waitFor();
      await admin.page.goto(BASE + "/admin/modlog");
      await admin.page.locator("table tbody tr").first().waitFor();
    }
    await admin.ctx.close();
  }

  step("dark scheme");
  const dark = await newUser({ colorScheme: "dark" });
  // Anonymous feed pages come from nginx's 1 s micro-cache, and the first reader after it
  // expired gets the stale page while it refreshes: reload until the post shows.
  for (let i = 0; i < 20; i++) {
    await dark.page.goto(BASE + "/");
    await dark.page.locator(".posts li, .empty").first().waitFor();
    if (await dark.page.locator(".posts li").count()) break;
    await dark.page.waitForTimeout(300);
  }
  await dark.page.locator(".posts li").first().waitFor();
  await capture(dark.page, "board-dark");
  await dark.ctx.close();

  step("keyboard: skip link and tab order reach the post link");
  await bob.page.goto(BASE + "/");
  await bob.page.locator(".posts li").first().waitFor();
  await bob.page.keyboard.press("Tab");
  assert(await bob.page.evaluate(() => document.activeElement?.textContent) === "Skip to content", "skip link first");
  const outline = await bob.page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert(outline !== "none", "visible focus");
  let reached = false;
  for (let i = 0; i < 25 && !reached; i++) {
    await bob.page.keyboard.press("Tab");
    reached = await bob.page.evaluate(() => document.activeElement?.textContent === "Hello from the browser");
  }
  assert(reached, "the post link is reachable by Tab");
  await bob.page.keyboard.press("Enter");
  await bob.page.waitForURL(/\/posts\/\d+$/);

  step("bob deletes his account");
  await bob.page.goto(BASE + "/profile");
  await bob.page.getByRole("button", { name: "Delete my account…" }).click();
  await bob.page.getByLabel("Type your password to confirm").fill("wrong-password");
  await bob.page.getByRole("button", { name: "Delete my account for good" }).click();
  await bob.page.locator(".error").first().waitFor();
  assert(bob.page.url().endsWith("/profile"), "still on the profile after a wrong password");
  await bob.page.getByLabel("Type your password to confirm").fill(PASSWORD);
  await bob.page.getByRole("button", { name: "Delete my account for good" }).click();
  await bob.page.waitForURL(/\/\?deleted=1$/);
  await bob.page.getByRole("link", { name: "Log in" }).waitFor();
  await login(bob.page, bobName);
  await bob.page.locator(".error").waitFor();
  assert(bob.page.url().includes("/login"), "the deleted account cannot log in");

  step("alice deletes her post");
  alice.page.on("dialog", (dialog) => dialog.accept());
  await alice.page.goto(postUrl);
  await alice.page.locator("article.post .actions").getByRole("button", { name: "Delete" }).click();
  await alice.page.waitForURL(BASE + "/");
  await alice.page.locator(".posts li, .empty").first().waitFor();
  assert(await alice.page.getByRole("link", { name: "Hello from the browser" }).count() === 0, "deleted post gone");

  await browser.close();
  console.log("RESULT " + JSON.stringify(result));
} catch (err) {
  console.error(err);
  // What each open page showed when it failed (for the log, not docs/web/).
  for (const [i, p] of pages.entries()) {
    if (!p.isClosed()) await p.screenshot({ path: `/tmp/ib-e2e-failure-${i}.png` }).catch(() => {});
  }
  console.log("RESULT " + JSON.stringify({ ...result, error: String(err && err.message || err) }));
  await browser.close();
  process.exit(1);
}
