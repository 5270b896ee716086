// Builds the browser bundles and styles into collab/static/collab/ (run: npm run build).
// The output depends only on the sources and the locked dependencies, so a
// rebuild of an unchanged tree is byte-identical to the committed files.
import { build } from 'esbuild'

const outdir = new URL('../collab/static/collab/', import.meta.url).pathname

const LICENSES = 'Bundles yjs, y-websocket, y-protocols, lib0 (MIT, Kevin Jahns)'
const EDITOR_LICENSES = `${LICENSES}, y-prosemirror, y-codemirror.next (MIT, Kevin Jahns),\n` +
  ' * ProseMirror and CodeMirror (MIT, Marijn Haverbeke and others)'

const outputs = [
  { entry: 'src/global.js', outfile: 'collab-client.js', format: 'iife', licenses: LICENSES },
  { entry: 'src/index.js', outfile: 'collab-client.mjs', format: 'esm', licenses: LICENSES },
  { entry: 'src/editor.js', outfile: 'collab-editor.mjs', format: 'esm', licenses: EDITOR_LICENSES },
  { entry: 'src/editor.css', outfile: 'collab-editor.css', licenses: 'Includes ProseMirror styles (MIT, Marijn Haverbeke and others)' }
]

for (const { entry, outfile, format, licenses } of outputs) {
  const header = `/* ${outfile}: built from client/${entry} by \`npm run build\`; do not edit.\n * ${licenses}. */`
  await build({
    entryPoints: [new URL(entry, import.meta.url).pathname],
    outfile: outdir + outfile,
    bundle: true,
    ...(format ? { format } : {}),
    minify: true,
    target: ['es2020'],
    legalComments: 'eof',
    banner: { [entry.endsWith('.css') ? 'css' : 'js']: header },
    logLevel: 'warning'
  })
}
