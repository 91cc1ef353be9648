// npm run budget: the JavaScript the first page load fetches (dist/index.html's module
// scripts and their modulepreloads; lazy chunks such as the admin pages are not counted)
// must be at most 100 KB gzipped. Prints the figure; exits 1 over the budget.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET = 100 * 1024;
const dist = join(dirname(dirname(fileURLToPath(import.meta.url))), "dist");
const html = readFileSync(join(dist, "index.html"), "utf8");
const srcs = new Set();
for (const m of html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)) srcs.add(m[1]);
for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)) srcs.add(m[1]);
if (srcs.size === 0) { console.error("no module script in dist/index.html"); process.exit(1); }
let total = 0;
for (const src of srcs) {
  const size = gzipSync(readFileSync(join(dist, src.replace(/^\//, "")))).length;
  total += size;
  console.log(`${src}: ${(size / 1024).toFixed(1)} KB gzipped`);
}
console.log(`initial JavaScript: ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB)`);
process.exit(total <= BUDGET ? 0 : 1);
