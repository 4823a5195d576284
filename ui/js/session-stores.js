// The signed-in session's local stores: the known keys (the awaiting count; keys-changed keeps it
// current) and the people's names for phone numbers. Both are fast local reads, asked once the first
// rows are drawn: the locks are what the first screen shows (docs/benchmarks.md, the cached start).

import { needsSignIn } from './errors.js';
import { startKeyStore } from './key-store.js';
import { startPeopleStore } from './people-store.js';
import { afterNextFrame } from './timeline.js';

/** Starts both after the next frame, unless stillSignedIn() says the session ended meanwhile. */
export function startSessionStores(stillSignedIn, onSignInError) {
  afterNextFrame(() => {
    if (!stillSignedIn()) return;
    startKeyStore().catch((err) => {
      if (needsSignIn(err)) onSignInError(err);
      else console.warn('list_keys failed', err);
    });
    startPeopleStore().catch((err) => {
      if (!needsSignIn(err)) console.warn('list_people failed', err);
    });
  });
}
