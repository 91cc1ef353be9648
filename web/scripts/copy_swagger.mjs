// Part of `npm run build`: Swagger UI (npm swagger-ui-dist) into dist/api-docs/, from where
// the gateway serves it at /api/docs/assets/ (gateway/resources/docs.py): no CDN.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const src = dirname(require.resolve("swagger-ui-dist/package.json"));
const out = join(dirname(dirname(fileURLToPath(import.meta.url))), "dist", "api-docs");
mkdirSync(out, { recursive: true });
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"]) {
  copyFileSync(join(src, name), join(out, name));
}
