// Bundles the web client into web/dist (git-ignored), which the Gateway serves at /.
//   node build.mjs            one build (minified, with a source map)
//   node build.mjs --watch    rebuild on change
import { build, context } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
const watch = process.argv.includes('--watch');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const file of ['index.html', 'styles.css', 'favicon.svg']) {
    cpSync(join(here, 'src', file), join(out, file));
}

const options = {
    entryPoints: [join(here, 'src', 'app.js')],
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    minify: !watch,
    sourcemap: true,
    outfile: join(out, 'app.js'),
    logLevel: 'info',
};

if (watch) {
    const ctx = await context(options);
    await ctx.watch();
} else {
    await build(options);
}
