// npm run openapi: dumps the gateway's OpenAPI document to openapi.json (with the project's
// .venv python when there is one) and generates src/api/schema.d.ts from it.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = dirname(dirname(fileURLToPath(import.meta.url)));
const venv = join(web, "..", ".venv", "bin", "python");
const python = process.env.PYTHON || (existsSync(venv) ? venv : "python3");
execFileSync(python, [join(web, "scripts", "dump_openapi.py")], { stdio: "inherit" });
execFileSync(join(web, "node_modules", ".bin", "openapi-typescript"),
  ["openapi.json", "-o", "src/api/schema.d.ts"], { cwd: web, stdio: "inherit" });
