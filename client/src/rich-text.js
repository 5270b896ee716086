/**
 * The rich-text editor: ProseMirror bound to a `Y.XmlFragment` by y-prosemirror,
 * with remote cursors and selections labelled with the users' names.
 *
 * @module rich-text
 */

import { EditorState, Plugin } from 'prosemirror-state'
import { EditorView } from 'prosemirror-view'
import { DOMParser as PMDOMParser, DOMSerializer, Schema } from 'prosemirror-model'
import { schema as basicSchema } from 'prosemirror-schema-basic'
import { addListNodes } from 'prosemirror-schema-list'
import { exampleSetup, buildMenuItems } from 'prosemirror-example-setup'
import { MenuItem, icons, undoItem } from 'prosemirror-menu'
import { keymap } from 'prosemirror-keymap'
import {
  ySyncPlugin, yCursorPlugin, yUndoPlugin, yUndoPluginKey, undoCommand, redoCommand,
  prosemirrorToYXmlFragment, yXmlFragmentToProseMirrorRootNode
} from 'y-prosemirror'
import { safeUrl } from './urls.js'

/** Name of the shared `Y.XmlFragment` holding rich text (y-prosemirror's default). */
export const FRAGMENT_NAME = 'prosemirror'

/**
 * ProseMirror's basic `spec` with its URL attribute `name` kept only when
 * {@link safeUrl} allows it: pasted HTML with another URL loses the element,
 * and a document written by another client renders it without the attribute
 * (as the server's `collab.html` does).
 *
 * @param {object} spec a node or mark spec whose first parse rule reads `name`
 * @param {string} name `href` or `src`
 * @return {object}
 */
const withSafeUrl = (spec, name) => {
  const [rule] = spec.parseDOM
  return {
    ...spec,
    parseDOM: [{ ...rule, getAttrs: (dom) => safeUrl(dom.getAttribute(name)) !== null && rule.getAttrs(dom) }],
    toDOM: (item, inline) => {
      const [tag, attrs, ...rest] = spec.toDOM(item, inline)
      return [tag, { ...attrs, [name]: safeUrl(item.attrs[name]) }, ...rest]
    }
  }
}

/** Paragraphs, headings, lists, quotes, code blocks, links, images, emphasis. */
export const schema = new Schema({
  nodes: addListNodes(basicSchema.spec.nodes, 'paragraph block*', 'block')
    .update('image', withSafeUrl(basicSchema.spec.nodes.get('image'), 'src')),
  marks: basicSchema.spec.marks.update('link', withSafeUrl(basicSchema.spec.marks.get('link'), 'href'))
})

/** An inert HTML document: parsing into it runs no scripts and loads nothing. */
const inertDocument = () => document.implementation.createHTMLDocument('')

/**
 * Parse HTML into a ProseMirror document; whatever the schema lacks is dropped.
 *
 * @param {string} html
 * @return {import('prosemirror-model').Node}
 */
export const htmlToDoc = (html) => {
  const body = inertDocument().body
  body.innerHTML = html
  return PMDOMParser.fromSchema(schema).parse(body)
}

/**
 * The HTML of the rich text in `fragment`.
 *
 * @param {import('yjs').XmlFragment} fragment
 * @return {string}
 */
export const fragmentToHtml = (fragment) => {
  const doc = yXmlFragmentToProseMirrorRootNode(fragment, schema)
  const container = inertDocument().createElement('div')
  container.append(DOMSerializer.fromSchema(schema).serializeFragment(doc.content, { document: container.ownerDocument }))
  return container.innerHTML
}

/**
 * Write `html` as rich text into the (empty) fragment of `ydoc`.
 *
 * @param {import('yjs').Doc} ydoc
 * @param {string} html
 */
export const writeHtml = (ydoc, html) => {
  prosemirrorToYXmlFragment(htmlToDoc(html), ydoc.getXmlFragment(FRAGMENT_NAME))
}

/**
 * The example setup's menu, its undo and redo buttons going through Yjs (its
 * own use ProseMirror's history, which would undo other users' changes too).
 */
const menuContent = () => buildMenuItems(schema).fullMenu.map((group) => group.includes(undoItem)
  ? [
      new MenuItem({ title: 'Undo last change', run: undoCommand, enable: (state) => undoCommand(state), icon: icons.undo }),
      new MenuItem({ title: 'Redo last undone change', run: redoCommand, enable: (state) => redoCommand(state), icon: icons.redo })
    ]
  : group)

/**
 * Redraws the menu when the Yjs undo or redo stack changes: the Yjs transaction
 * that fills them ends after ProseMirror has drawn its result, so the undo and
 * redo buttons would show the stacks as they were before.
 */
const undoButtonsPlugin = () => new Plugin({
  view (view) {
    const { undoManager } = yUndoPluginKey.getState(view.state)
    const redraw = () => queueMicrotask(() => {
      if (!view.isDestroyed) view.updateState(view.state)
    })
    const events = ['stack-item-added', 'stack-item-popped', 'stack-cleared']
    events.forEach((name) => undoManager.on(name, redraw))
    return { destroy: () => events.forEach((name) => undoManager.off(name, redraw)) }
  }
})

/**
 * A rich-text editor in `element`, editing the fragment of `ydoc`.
 *
 * @param {HTMLElement} element
 * @param {object} options
 * @param {import('yjs').Doc} options.ydoc
 * @param {import('y-protocols/awareness').Awareness} [options.awareness] shows remote cursors
 * @param {string} [options.label] accessible name of the editable area
 * @return {import('./editors.js').Editor}
 */
export const createRichTextEditor = (element, { ydoc, awareness, label }) => {
  const fragment = ydoc.getXmlFragment(FRAGMENT_NAME)
  let editable = false
  const plugins = [
    ySyncPlugin(fragment),
    ...(awareness ? [yCursorPlugin(awareness)] : []),
    yUndoPlugin(),
    undoButtonsPlugin(),
    keymap({ 'Mod-z': undoCommand, 'Mod-y': redoCommand, 'Mod-Shift-z': redoCommand }),
    ...exampleSetup({ schema, history: false, menuContent: menuContent() })
  ]
  const view = new EditorView(element, {
    state: EditorState.create({ schema, plugins }),
    editable: () => editable,
    attributes: label ? { 'aria-label': label } : {}
  })
  return {
    view,
    setEditable (flag) {
      editable = flag
      view.setProps({})
    },
    getValue: () => fragmentToHtml(fragment),
    destroy: () => view.destroy()
  }
}
