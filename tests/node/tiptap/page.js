// A Tiptap editor on a HocuspocusProvider, as a Tiptap app sets it up: the page of
// tests/browser/test_tiptap.py. The page's #editor element names the server's
// Hocuspocus URL, the document, the token and the user's name and colour.

import { HocuspocusProvider } from '@hocuspocus/provider'
import { Editor } from '@tiptap/core'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCaret from '@tiptap/extension-collaboration-caret'
import StarterKit from '@tiptap/starter-kit'

const element = document.getElementById('editor')
const { url, key, token, name, color } = element.dataset

const provider = new HocuspocusProvider({ url, name: key, token })
const status = document.getElementById('status')
provider.on('synced', () => { status.textContent = 'synced' })
provider.on('unsyncedChanges', ({ number }) => { status.dataset.unsynced = String(number) })
provider.on('authenticationFailed', ({ reason }) => { status.textContent = `denied: ${reason}` })

window.editor = new Editor({
  element,
  extensions: [
    StarterKit.configure({ undoRedo: false }), // Yjs keeps the history
    // collab's admin, exports and search read rich text from the `prosemirror` fragment
    Collaboration.configure({ document: provider.document, field: 'prosemirror' }),
    CollaborationCaret.configure({ provider, user: { name, color } })
  ]
})
