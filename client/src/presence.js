/**
 * Who is in a document, from the awareness states of its clients.
 *
 * @module presence
 */

/**
 * @typedef {object} PresentUser
 * @property {number} clientId
 * @property {string} name
 * @property {string} color
 * @property {boolean} isLocal
 */

/** The colour of a user who announced none, or something that is not a colour. */
export const DEFAULT_COLOR = '#6e7781'

/** Names longer than this many characters are cut (with an ellipsis). */
export const MAX_NAME_LENGTH = 80

/** A colour as the editors accept it: `#rgb` or `#rrggbb`. */
const COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i

/**
 * @typedef {object} SafeUser
 * @property {string} name shown as text only, at most {@link MAX_NAME_LENGTH} characters
 * @property {string} color `#rrggbb`
 * @property {string} colorLight the colour at 20 % opacity (`#rrggbb33`), for selections
 */

/**
 * An awareness state's `user` field as it may reach the page: a string name and a
 * colour that is a colour. Everything else another client put there is dropped.
 *
 * @param {unknown} user
 * @return {SafeUser|null} null when there is no user or the name is not a string
 */
export const safeUser = (user) => {
  if (!user || typeof user !== 'object' || typeof user.name !== 'string') return null
  const name = user.name.length > MAX_NAME_LENGTH ? `${user.name.slice(0, MAX_NAME_LENGTH - 1)}…` : user.name
  let color = typeof user.color === 'string' && COLOR.test(user.color) ? user.color.toLowerCase() : DEFAULT_COLOR
  if (color.length === 4) color = `#${[...color.slice(1)].map((digit) => digit + digit).join('')}`
  return { name, color, colorLight: `${color}33` }
}

/**
 * Keep other clients' awareness states harmless for everything that draws them
 * (the presence list, both editors' cursors): each one's `user` is replaced by
 * {@link safeUser}, and a state without a valid user loses its cursor, so no
 * editor draws one. Must be called before anything else listens to `awareness`.
 *
 * @param {import('y-protocols/awareness').Awareness} awareness
 * @return {() => void} stops
 */
export const guardRemoteStates = (awareness) => {
  const guard = ({ added, updated }) => {
    for (const clientId of [...added, ...updated]) {
      const state = awareness.states.get(clientId)
      if (clientId === awareness.clientID || !state) continue
      const { user, cursor, ...rest } = state
      const safe = safeUser(user)
      awareness.states.set(clientId, safe ? { ...rest, user: safe, ...(cursor === undefined ? {} : { cursor }) } : rest)
    }
  }
  awareness.on('change', guard)
  return () => awareness.off('change', guard)
}

/**
 * Whether the server's presence state says it cannot store the document's edits:
 * `{collab: {storage: 'failing'}}` (see collab's protocol documentation).
 *
 * @param {import('y-protocols/awareness').Awareness} awareness
 * @return {boolean}
 */
export const storageFailing = (awareness) =>
  [...awareness.getStates().values()].some((state) => state?.collab?.storage === 'failing')

/**
 * The users whose awareness state has a valid `user` field ({@link safeUser}),
 * local client first, then by name.
 *
 * @param {import('y-protocols/awareness').Awareness} awareness
 * @return {PresentUser[]}
 */
export const presentUsers = (awareness) => {
  const users = []
  awareness.getStates().forEach((state, clientId) => {
    const user = safeUser(state && state.user)
    if (!user) return
    users.push({ clientId, name: user.name, color: user.color, isLocal: clientId === awareness.clientID })
  })
  return users.sort((a, b) => (b.isLocal - a.isLocal) || a.name.localeCompare(b.name))
}

/**
 * Replace the children of `listEl` (a `<ul>` or `<ol>`) with one `<li>` per user:
 * a colour dot and the name. Names are set as text, never as HTML; colours
 * are {@link safeUser}'s.
 *
 * @param {HTMLElement} listEl
 * @param {PresentUser[]} users
 */
export const renderPresence = (listEl, users) => {
  const doc = listEl.ownerDocument
  listEl.replaceChildren(...users.map((user) => {
    const item = doc.createElement('li')
    item.className = user.isLocal ? 'collab-user collab-user-local' : 'collab-user'
    const dot = doc.createElement('span')
    dot.className = 'collab-user-color'
    dot.style.backgroundColor = user.color
    item.append(dot, user.isLocal ? `${user.name} (you)` : user.name)
    return item
  }))
}

/**
 * Call `callback(users)` now and whenever somebody joins, leaves or changes
 * their user info.
 *
 * @param {import('y-protocols/awareness').Awareness} awareness
 * @param {(users: PresentUser[]) => void} callback
 * @return {() => void} stops watching
 */
export const watchPresence = (awareness, callback) => {
  const onChange = () => callback(presentUsers(awareness))
  awareness.on('change', onChange)
  onChange()
  return () => awareness.off('change', onChange)
}
