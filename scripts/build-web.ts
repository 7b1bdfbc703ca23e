import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(REPO_ROOT, 'src/web');
/** Where `npm run build:web` writes and where `oruel serve` looks by default. */
export const DEFAULT_WEB_OUT_DIR = join(REPO_ROOT, 'dist/web');

/** The pages: their HTML (copied) and their one script entry each (bundled with its CSS). */
const PAGES = [
  { html: 'playground/index.html', entry: 'playground/main.ts', name: 'playground' },
  { html: 'usage/usage.html', entry: 'usage/main.ts', name: 'usage' },
] as const;

/**
 * Bundles the web pages with everything they import from npm (no CDN: the pages work offline):
 * `OUT/index.html`, `OUT/usage.html` and `OUT/assets/{playground,usage}.{js,css}`.
 */
export async function buildWeb(outDir: string = DEFAULT_WEB_OUT_DIR): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(join(outDir, 'assets'), { recursive: true });
  await build({
    entryPoints: Object.fromEntries(PAGES.map((page) => [page.name, join(SOURCE, page.entry)])),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    outdir: join(outDir, 'assets'),
    logLevel: 'warning',
  });
  for (const page of PAGES) {
    await copyFile(
      join(SOURCE, page.html),
      join(outDir, page.name === 'playground' ? 'index.html' : `${page.name}.html`),
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outDir = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_WEB_OUT_DIR;
  await buildWeb(outDir);
  process.stdout.write(`web pages built in ${outDir}\n`);
}
