// Bundles tiptap/page.js for the browser into the file named by the first argument.
import { build } from 'esbuild'

await build({
  entryPoints: [new URL('./page.js', import.meta.url).pathname],
  bundle: true,
  format: 'iife',
  outfile: process.argv[2],
  logLevel: 'warning'
})
