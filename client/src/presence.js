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

/**
 * The users whose awareness state has a `user` field, local client first,
 * then by name.
 *
 * @param {import('y-protocols/awareness').Awareness} awareness
 * @return {PresentUser[]}
 */
export const presentUsers = (awareness) => {
  const users = []
  awareness.getStates().forEach((state, clientId) => {
    const user = state && state.user
    if (!user || typeof user.name !== 'string') return
    users.push({
      clientId,
      name: user.name,
      color: typeof user.color === 'string' ? user.color : '',
      isLocal: clientId === awareness.clientID
    })
  })
  return users.sort((a, b) => (b.isLocal - a.isLocal) || a.name.localeCompare(b.name))
}

/**
 * Replace the children of `listEl` (a `<ul>` or `<ol>`) with one `<li>` per user:
 * a colour dot and the name. Names are set as text, never as HTML.
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
