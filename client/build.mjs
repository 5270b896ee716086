// Builds the browser bundles and styles into collab/static/collab/ (run: npm run build).
// The output depends only on the sources and the locked dependencies, so a
// rebuild of an unchanged tree is byte-identical to the committed files.
import { rmSync } from 'node:fs'
import { build } from 'esbuild'

const outdir = new URL('../collab/static/collab/', import.meta.url).pathname

const LICENSES = 'Bundles yjs, y-websocket, y-protocols, lib0 (MIT, Kevin Jahns)'
const EDITOR_LICENSES = `${LICENSES}, y-prosemirror, y-codemirror.next (MIT, Kevin Jahns),\n` +
  ' * ProseMirror and CodeMirror (MIT, Marijn Haverbeke and others)'

const outputs = [
  { entry: 'src/global.js', outfile: 'collab-client.js', format: 'iife', licenses: LICENSES },
  { entry: 'src/index.js', outfile: 'collab-client.mjs', format: 'esm', licenses: LICENSES },
  // Split: each editor mode is a chunk the entry imports when a page first uses it.
  { entry: 'src/editor.js', outfile: 'collab-editor.mjs', format: 'esm', licenses: EDITOR_LICENSES, splitting: true },
  { entry: 'src/editor.css', outfile: 'collab-editor.css', licenses: 'Includes ProseMirror styles (MIT, Marijn Haverbeke and others)' }
]

/** Where the editor bundle's chunks go; emptied first, so no chunk of an older build stays. */
const CHUNKS = 'chunks'
rmSync(outdir + CHUNKS, { recursive: true, force: true })

for (const { entry, outfile, format, licenses, splitting } of outputs) {
  const header = `/* ${outfile}: built from client/${entry} by \`npm run build\`; do not edit.\n * ${licenses}. */`
  await build({
    entryPoints: [new URL(entry, import.meta.url).pathname],
    ...(splitting
      ? { outdir, splitting: true, entryNames: outfile.replace(/\.mjs$/, ''), chunkNames: `${CHUNKS}/[name]-[hash]`, outExtension: { '.js': '.mjs' } }
      : { outfile: outdir + outfile }),
    bundle: true,
    ...(format ? { format } : {}),
    minify: true,
    target: ['es2020'],
    legalComments: 'eof',
    banner: { [entry.endsWith('.css') ? 'css' : 'js']: header },
    logLevel: 'warning'
  })
}
