#!/usr/bin/env node
// Fails when the web client's modules import each other in a circle or against its layers: imports go one way,
// api -> store -> channels -> views -> app (a module imports only modules of lower layers, or of its own layer
// without a cycle). The import graph is esbuild's (a metafile of the bundle), so it sees what the build sees.
//
//   node scripts/check-web-imports.mjs     (scripts/web.sh build runs it after bundling; needs web/node_modules)
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..', 'web');
const { build } = createRequire(join(web, 'package.json'))('esbuild');

// Lower layers first. A module not listed is checked for cycles only.
const layers = [
    ['dom.js', 'api.js', 'realtime.js'], // no state: DOM helpers, REST, the hub connection
    ['store.js'], // the state and its helpers; announces changes, imports no view
    ['channels.js'], // reads of the channel list and members into the state
    ['format.js', 'composer.js', 'messages.js', 'events.js', 'dialogs.js', 'pins.js', 'profiles.js', 'attachments.js', 'uploads.js', 'avatars.js', 'people.js', 'directory.js', 'channel-settings.js', 'invites.js'], // views (format.js: message Markdown to sanitized nodes)
    ['threads.js', 'notifyprefs.js', 'attention.js', 'account.js', 'entries.js'], // notifications and account (entries.js wires them into the shell)
    ['app.js'], // the entry: the shell; nothing imports it
];
const layerOf = new Map(layers.flatMap((files, i) => files.map(f => [f, i])));

const result = await build({
    entryPoints: [join(web, 'src', 'app.js')],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    logLevel: 'silent',
    external: ['@microsoft/signalr'],
    absWorkingDir: web,
});

// module -> the local modules it imports (paths relative to web/src)
const graph = new Map();
const name = path => relative('src', path).split('\\').join('/');
for (const [path, input] of Object.entries(result.metafile.inputs)) {
    if (!path.startsWith('src/')) continue;
    graph.set(name(path), input.imports.filter(i => !i.external && i.path.startsWith('src/')).map(i => name(i.path)));
}

const problems = [];
for (const [from, imports] of graph) {
    for (const to of imports) {
        const a = layerOf.get(from);
        const b = layerOf.get(to);
        if (a !== undefined && b !== undefined && b > a) {
            problems.push(`${from} imports ${to}: a lower layer imports a higher one (${layers[a].join(', ')} below ${layers[b].join(', ')})`);
        }
    }
}

// Cycles: depth-first search, reporting each cycle found once.
const state = new Map(); // module -> 'visiting' | 'done'
const stack = [];
const visit = module => {
    state.set(module, 'visiting');
    stack.push(module);
    for (const next of graph.get(module) ?? []) {
        if (state.get(next) === 'visiting') {
            problems.push(`import cycle: ${[...stack.slice(stack.indexOf(next)), next].join(' -> ')}`);
        } else if (!state.has(next)) {
            visit(next);
        }
    }
    stack.pop();
    state.set(module, 'done');
};
for (const module of graph.keys()) if (!state.has(module)) visit(module);

const unlisted = [...graph.keys()].filter(m => !layerOf.has(m));
if (unlisted.length) console.error(`[web] imports: not in a layer of scripts/check-web-imports.mjs (checked for cycles only): ${unlisted.join(', ')}`);
if (problems.length) {
    for (const p of problems) console.error(`[web] imports: ${p}`);
    process.exit(1);
}
console.error(`[web] imports: ${graph.size} modules, one direction, no cycle`);
