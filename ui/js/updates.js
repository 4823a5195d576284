// The offered update, shared by the header button and the settings view. The Rust side checks at
// start and daily and tells us (`update-available`); nothing installs until the user says so.

import * as ipc from './ipc.js';

let offered = null;
const listeners = new Set();

function tell() {
  for (const fn of listeners) fn(offered);
}

/** Start listening for offers from the background check. */
export function watchUpdates() {
  ipc.onUpdateAvailable((info) => {
    if (info && typeof info.version === 'string') {
      offered = info;
      tell();
    }
  });
}

export function offeredUpdate() {
  return offered;
}

/** Ask now (Settings → Check for updates). Resolves to the offer or null; rejects with an AppError. */
export async function checkNow() {
  offered = await ipc.checkForUpdate();
  tell();
  return offered;
}

export function installOffered() {
  return ipc.installUpdate();
}

/** Call back on every change of the offer. Returns an unsubscribe function. */
export function onUpdateOffer(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
