// The one module that talks to the Rust side. Nothing else touches window.__TAURI__.
// Every function resolves to the typed value of docs/architecture.md section 1, or rejects
// with an AppError object ({kind, message, field?, retryAfterSecs?}) — never anything else.

/** True when the page runs inside the Tauri webview (withGlobalTauri). */
export function isTauri() {
  return typeof globalThis.__TAURI__?.core?.invoke === 'function';
}

function toAppError(raw) {
  if (raw && typeof raw === 'object' && typeof raw.kind === 'string') {
    const err = { kind: raw.kind, message: typeof raw.message === 'string' ? raw.message : '' };
    if (typeof raw.field === 'string') err.field = raw.field;
    if (Number.isFinite(raw.retryAfterSecs)) err.retryAfterSecs = raw.retryAfterSecs;
    return err;
  }
  // Tauri itself rejects with a plain string (e.g. an unknown command or bad arguments).
  const message = raw instanceof Error ? raw.message : String(raw ?? '');
  return { kind: 'internal', message };
}

async function call(command, args) {
  if (!isTauri()) {
    throw { kind: 'internal', message: 'Not running inside the Unloc Desk app (no Tauri bridge).' };
  }
  try {
    return await globalThis.__TAURI__.core.invoke(command, args);
  } catch (raw) {
    throw toAppError(raw);
  }
}

/** get_startup → Startup */
export function getStartup() {
  return call('get_startup');
}

/** sign_in → Session. An empty apiBase is sent as null (= the default address). */
export function signIn({ partnerId, token, apiBase }) {
  return call('sign_in', { partnerId, token, apiBase: apiBase ? apiBase : null });
}

/** sign_out → null */
export function signOut() {
  return call('sign_out');
}

/** list_locks → LocksPage */
export function listLocks() {
  return call('list_locks');
}

/** list_events → EventsPage */
export function listEvents(lockId) {
  return call('list_events', { lockId });
}

/** set_language → Settings. language: "system" | "en" | "nb" */
export function setLanguage(language) {
  return call('set_language', { language });
}
