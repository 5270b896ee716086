// Builds the browser bundles into collab/static/collab/ (run: npm run build).
// The output depends only on the sources and the locked dependencies, so a
// rebuild of an unchanged tree is byte-identical to the committed files.
import { build } from 'esbuild'

const outdir = new URL('../collab/static/collab/', import.meta.url).pathname

const bundles = [
  { entry: 'src/textarea.js', outfile: 'collab-textarea.js', globalName: 'CollabTextarea' }
]

for (const { entry, outfile, globalName } of bundles) {
  await build({
    entryPoints: [new URL(entry, import.meta.url).pathname],
    outfile: outdir + outfile,
    bundle: true,
    format: 'iife',
    globalName,
    minify: true,
    target: ['es2020'],
    legalComments: 'eof',
    banner: {
      js: `/* ${outfile}: built from client/${entry} by \`npm run build\`; do not edit.\n` +
        ' * Bundles yjs, y-websocket, y-protocols and lib0 (MIT License, Copyright Kevin Jahns). */'
    },
    logLevel: 'info'
  })
}
