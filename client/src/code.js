/**
 * The plain-text and code editor: CodeMirror 6 bound to a `Y.Text` by
 * y-codemirror.next, with remote cursors and selections labelled with names.
 *
 * @module code
 */

import * as Y from 'yjs'
import { Compartment, EditorState } from '@codemirror/state'
import {
  EditorView, crosshairCursor, drawSelection, dropCursor, highlightActiveLine,
  highlightActiveLineGutter, highlightSpecialChars, keymap, lineNumbers, rectangularSelection
} from '@codemirror/view'
import { defaultKeymap, indentWithTab } from '@codemirror/commands'
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'

/** Name of the shared `Y.Text` holding plain text (what the Node clients and tests use). */
export const TEXT_NAME = 'content'

/**
 * Write `text` into the (empty) shared text of `ydoc`.
 *
 * @param {import('yjs').Doc} ydoc
 * @param {string} text
 */
export const writeText = (ydoc, text) => {
  ydoc.getText(TEXT_NAME).insert(0, text)
}

/**
 * What the code editor offers besides collaboration: line numbers, selections,
 * search. No CodeMirror `history()`: it would record (and undo) remote changes
 * too. Undo and redo go through a `Y.UndoManager` instead ({@link createCodeEditor}).
 */
const codeSetup = [
  lineNumbers(),
  highlightActiveLineGutter(),
  highlightSpecialChars(),
  drawSelection(),
  dropCursor(),
  EditorState.allowMultipleSelections.of(true),
  rectangularSelection(),
  crosshairCursor(),
  highlightActiveLine(),
  highlightSelectionMatches(),
  EditorView.lineWrapping,
  keymap.of([...yUndoManagerKeymap, ...defaultKeymap, ...searchKeymap, indentWithTab])
]

/** @param {boolean} flag */
const editability = (flag) => [EditorView.editable.of(flag), EditorState.readOnly.of(!flag)]

/**
 * A code editor in `element`, editing the shared text of `ydoc`.
 *
 * @param {HTMLElement} element
 * @param {object} options
 * @param {import('yjs').Doc} options.ydoc
 * @param {import('y-protocols/awareness').Awareness} [options.awareness] shows remote cursors
 * @param {string} [options.label] accessible name of the editable area
 * @return {import('./editors.js').Editor}
 */
export const createCodeEditor = (element, { ydoc, awareness, label }) => {
  const ytext = ydoc.getText(TEXT_NAME)
  const editable = new Compartment()
  // Undo only what this editor typed (y-codemirror.next adds its own origin):
  // the default tracked origin `null` would also catch seeding and local writes.
  const undoManager = new Y.UndoManager(ytext, { trackedOrigins: new Set() })
  const view = new EditorView({
    parent: element,
    state: EditorState.create({
      doc: ytext.toString(),
      extensions: [
        codeSetup,
        editable.of(editability(false)),
        yCollab(ytext, awareness || null, { undoManager }),
        ...(label ? [EditorView.contentAttributes.of({ 'aria-label': label })] : [])
      ]
    })
  })
  return {
    view,
    setEditable: (flag) => view.dispatch({ effects: editable.reconfigure(editability(flag)) }),
    getValue: () => ytext.toString(),
    destroy: () => {
      view.destroy()
      undoManager.destroy()
    }
  }
}
