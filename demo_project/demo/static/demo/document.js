// Binds the document page's textarea to the shared document with the bundled
// client (collab/collab-textarea.js); the view passes the options as JSON.
const config = JSON.parse(document.getElementById('collab-config').textContent)

CollabTextarea.attach(document.getElementById('collab-content'), {
  key: config.key,
  user: config.user,
  readOnly: config.readOnly,
  statusEl: document.getElementById('collab-status'),
  presenceEl: document.getElementById('collab-presence')
})
