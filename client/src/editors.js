/**
 * The editor modes a page can ask for, each with how it seeds a document.
 *
 * @module editors
 */

import { createRichTextEditor, writeHtml } from './rich-text.js'
import { createCodeEditor, writeText } from './code.js'

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

/** @type {Record<'rich'|'plain', EditorMode>} */
export const MODES = {
  rich: { create: createRichTextEditor, write: writeHtml },
  plain: { create: createCodeEditor, write: writeText }
}
