// Bundles the front door's scripts and styles into ../src/jobstream/web/static/dist with
// content-hashed names, and writes manifest.json (entry name -> file) for the templates.
// Run by `npm run build` (deploy/local/stack.sh, test.sh and the Dockerfile do it).
import { build } from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "jobstream", "web", "static", "dist");
const entries = ["app.css", "board.ts", "office.ts", "tech.ts", "tech-sw.ts", "portal.ts"];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: entries.map((e) => join(here, "src", e)),
  outdir: out,
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "esm",
  target: ["es2022"],
  entryNames: "[name]-[hash]",
  assetNames: "assets/[name]-[hash]",
  loader: { ".png": "file", ".svg": "file" },
  metafile: true,
  logLevel: "warning",
});
const manifest = {};
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  if (!info.entryPoint) continue;
  const source = basename(info.entryPoint).replace(/\.ts$/, ".js");
  manifest[source] = file.slice(file.indexOf("dist/") + 5);
}
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`built ${Object.keys(manifest).length} entries into ${out}`);
