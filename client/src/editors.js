/**
 * The editor modes a page can ask for, each with how it seeds a document.
 * Each mode's code is a chunk of its own, loaded when a page first uses it:
 * a page with only plain-text editors never loads ProseMirror, and one with
 * only rich-text editors never loads CodeMirror.
 *
 * @module editors
 */

/**
 * @typedef {object} Editor
 * @property {object} view the ProseMirror or CodeMirror view
 * @property {(editable: boolean) => void} setEditable
 * @property {() => string} getValue the content as a form submits it: HTML for rich text, text for plain
 * @property {() => void} destroy
 */

/**
 * @typedef {object} EditorMode
 * @property {(element: HTMLElement, options: {ydoc: import('yjs').Doc, awareness?: object, label?: string}) => Editor} create
 * @property {(ydoc: import('yjs').Doc, value: string) => void} write fills an empty document with a form value
 */

/** @type {Record<'rich'|'plain', () => Promise<EditorMode>>} */
const LOADERS = {
  rich: () => import('./rich-text.js').then(({ createRichTextEditor, writeHtml }) => ({ create: createRichTextEditor, write: writeHtml })),
  plain: () => import('./code.js').then(({ createCodeEditor, writeText }) => ({ create: createCodeEditor, write: writeText }))
}

/** The editor modes there are. */
export const MODE_NAMES = Object.freeze(Object.keys(LOADERS))

/**
 * The editor mode `name`, its code loaded first if this page has not yet.
 *
 * @param {string} name `rich` or `plain`
 * @return {Promise<EditorMode>}
 * @throws {TypeError} no such mode
 */
export const loadMode = (name) => {
  if (!Object.hasOwn(LOADERS, name)) throw new TypeError(`collab: unknown editor mode ${JSON.stringify(name)}`)
  return LOADERS[name]()
}
