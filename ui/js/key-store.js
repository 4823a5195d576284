// The keys the app knows (KeyView, docs/architecture.md section 4), in one place for every view:
// filled from list_keys, the answers of the key commands and the `keys-changed` event. Views read
// from here and subscribe; nothing here touches the DOM.

import { stopTeamLine, watchTeamLine } from './team-line.js';
import * as ipc from './ipc.js';

const keys = new Map(); // id → KeyView
const stamps = new Map(); // id → `version` when it was last merged
const listeners = new Set();
const ownActions = new Set(); // ids the user is changing right now (no "key changed" notice for those)
let version = 0;
let session = 0; // bumped on start/stop: late answers of an old session are dropped
let unlisten = null;
let allLoaded = false;

function isKeyView(k) {
  return k && typeof k === 'object' && typeof k.id === 'string' && typeof k.status === 'string';
}

function put(k) {
  // alreadyRevoked belongs to one answer, not to the key.
  const { alreadyRevoked, ...key } = k;
  keys.set(key.id, key);
  version += 1;
  stamps.set(key.id, version);
  return key;
}

function notify(change) {
  for (const fn of listeners) {
    try {
      fn(change);
    } catch (err) {
      console.error(err);
    }
  }
}

/**
 * Subscribe to changes: fn({reset, changed: KeyView[], left: [{key, before}]}). `reset` means
 * anything may have changed; `left` lists keys that stopped awaiting the owner's approval.
 * Returns an unsubscribe function.
 */
export function onKeys(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** After sign-in: follow keys-changed and load every known key. Resolves when loaded. */
export function startKeyStore() {
  stopKeyStore();
  watchTeamLine();
  const mine = session;
  unlisten = ipc.onKeysChanged((list) => {
    if (mine === session) mergeKeys(list);
  });
  return reloadAllKeys();
}

/** On sign-out: forget everything (the next partner has other keys). */
export function stopKeyStore() {
  session += 1;
  stopTeamLine();
  unlisten?.();
  unlisten = null;
  keys.clear();
  stamps.clear();
  ownActions.clear();
  allLoaded = false;
  notify({ reset: true, changed: [], left: [] });
}

/**
 * Replace the keys in scope with a fresh list from the store. A key merged after the request was
 * sent (an event that overtook the answer) is newer than the list, so it is kept as it is.
 */
function replace(list, since, inScope) {
  const fresh = new Map();
  for (const k of Array.isArray(list) ? list : []) if (isKeyView(k)) fresh.set(k.id, k);
  for (const [id, old] of keys) {
    if (inScope(old) && !fresh.has(id) && (stamps.get(id) ?? 0) <= since) {
      keys.delete(id);
      stamps.delete(id);
    }
  }
  const left = [];
  for (const k of fresh.values()) {
    if ((stamps.get(k.id) ?? 0) > since) continue;
    const before = keys.get(k.id);
    const key = put(k);
    if (before?.status === 'awaitingApproval' && key.status !== 'awaitingApproval' && !ownActions.has(key.id)) {
      left.push({ key, before });
    }
  }
  notify({ reset: true, changed: [], left });
}

/** list_keys(null) into the store. Rejects with an AppError. */
export async function reloadAllKeys() {
  const mine = session;
  const since = version;
  const list = await ipc.listKeys(null);
  if (mine !== session) return;
  allLoaded = true;
  replace(list, since, () => true);
}

/** list_keys(lockId) into the store. Rejects with an AppError. */
export async function reloadLockKeys(lockId) {
  const mine = session;
  const since = version;
  const list = await ipc.listKeys(lockId);
  if (mine !== session) return;
  replace(list, since, (k) => k.lockId === lockId);
}

/** Merge changed keys (by id). Returns the stored keys. */
export function mergeKeys(list) {
  const changed = [];
  const left = [];
  for (const k of Array.isArray(list) ? list : []) {
    if (!isKeyView(k)) continue;
    const before = keys.get(k.id);
    const key = put(k);
    changed.push(key);
    if (before?.status === 'awaitingApproval' && key.status !== 'awaitingApproval' && !ownActions.has(key.id)) {
      left.push({ key, before });
    }
  }
  if (changed.length) notify({ reset: false, changed, left });
  return changed;
}

/** Mark a key as being changed by the user now (its change is not announced as news). */
export function beginOwnAction(id) {
  ownActions.add(id);
  return () => ownActions.delete(id);
}

export function getKey(id) {
  return keys.get(id);
}

export function hasKey(id) {
  return keys.has(id);
}

/** Every known key (a new array; the KeyViews themselves are shared: do not change them). */
export function allKeys() {
  return [...keys.values()];
}

export function keysOfLock(lockId) {
  const found = [];
  for (const k of keys.values()) if (k.lockId === lockId) found.push(k);
  return found;
}

export function awaitingKeys() {
  const found = [];
  for (const k of keys.values()) if (k.status === 'awaitingApproval') found.push(k);
  return found;
}

/** True once list_keys(null) has answered in this session. */
export function allKeysLoaded() {
  return allLoaded;
}
