/**
 * Entry of `collab-client.js`, for plain `<script>` tags: defines the globals
 * `CollabClient` (the class) and `Collab` (everything `index.js` exports).
 *
 * @module global
 */

import * as Collab from './index.js'

Object.assign(globalThis, { Collab, CollabClient: Collab.CollabClient })
