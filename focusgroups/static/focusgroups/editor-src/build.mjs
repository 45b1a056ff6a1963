// Bundles the notes editor into ../notes-editor.js, the file the note page loads (committed, so that serving
// the platform needs no Node). `node build.mjs --check` builds in memory and fails when the committed file
// differs from a fresh build. The output depends only on the sources and the pinned packages: esbuild
// writes no timestamps or absolute paths.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outfile = join(here, "..", "notes-editor.js");
const check = process.argv.includes("--check");

const result = await build({
  entryPoints: [join(here, "src", "main.js")],
  absWorkingDir: here,
  bundle: true,
  minify: true,
  format: "iife",
  platform: "browser",
  target: ["es2020"],
  charset: "utf8",
  legalComments: "eof",
  banner: { js: "/* The focus groups' shared-notes editor. Built from editor-src/ by `make assets`; do not edit. */" },
  outfile,
  write: !check,
  logLevel: "warning",
});

if (check) {
  const fresh = result.outputFiles[0].text;
  let committed = "";
  try {
    committed = readFileSync(outfile, "utf8");
  } catch {
    committed = "";
  }
  if (fresh !== committed) {
    console.error(`${outfile} differs from a fresh build of editor-src/: run \`make assets\` and commit it.`);
    process.exit(1);
  }
  console.log("The committed notes editor bundle equals a fresh build.");
}
