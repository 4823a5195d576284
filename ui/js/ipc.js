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

// The first reply of each command is marked on the page's performance timeline (User Timing), so
// the benchmark (tests/bench) can tell when data reached the page. Only the first: marks are kept
// for the page's lifetime. A mark holds a command name and a time, nothing from the reply.
const markedReplies = new Set();

function markFirstReply(command) {
  if (markedReplies.has(command)) return;
  markedReplies.add(command);
  performance.mark(`unloc:reply:${command}`);
}

async function call(command, args) {
  if (!isTauri()) {
    throw { kind: 'internal', message: 'Not running inside the Unloc Desk app (no Tauri bridge).' };
  }
  try {
    const reply = await globalThis.__TAURI__.core.invoke(command, args);
    markFirstReply(command);
    return reply;
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

// ---- Settings → Team: the office's shared database ----------------------------------------------

/** get_team_settings → TeamSettingsView {settings: TeamSettings | null, passwordSaved} */
export function getTeamSettings() {
  return call('get_team_settings');
}

/** test_team_connection → TeamCheck {outcome, detail, schemaVersion}. password: typed, or null for the kept one */
export function testTeamConnection(settings, password) {
  return call('test_team_connection', { settings, password: password || null });
}

/** save_team_settings → TeamSettingsView. settings null stops sharing; password typed or null */
export function saveTeamSettings(settings, password) {
  return call('save_team_settings', { settings, password: password || null });
}

/** get_team_status → TeamStatus {linked, state: off|connecting|current|notCurrent, problem, since, queued} */
export function getTeamStatus() {
  return call('get_team_status');
}

/** Call back at every `people-changed` event (another desk changed the people directory). */
export function onPeopleChanged(callback) {
  return listenTo('people-changed', () => callback());
}

/** Call back at every `team-changed` event (the team database began or stopped answering). */
export function onTeamChanged(callback) {
  return listenTo('team-changed', () => callback());
}

// ---- keys and the local store (docs/architecture.md section 4) ---------------------------------

/** cached_locks → LocksPage | null (the last locks from the local store, no network) */
export function cachedLocks() {
  return call('cached_locks');
}

/** cached_events → EventsPage | null */
export function cachedEvents(lockId) {
  return call('cached_events', { lockId });
}

/** list_keys → KeyView[] (the known keys of one lock, or all with null; local store, no network) */
export function listKeys(lockId) {
  return call('list_keys', { lockId: lockId ?? null });
}

/** create_key → KeyView. msn E.164; start/end RFC 3339 or null (start null = now); route or null. */
export function createKey({ lockId, msn, start, end, route }) {
  return call('create_key', { lockId, msn, start: start || null, end: end || null, route: route || null });
}

/** revoke_key → KeyView (alreadyRevoked: true when Unloc said it was revoked before) */
export function revokeKey(keyId) {
  return call('revoke_key', { keyId });
}

/** refresh_keys → KeyView[]: asks Unloc now for every unsettled key (of one lock, or all with null) */
export function refreshKeys(lockId) {
  return call('refresh_keys', { lockId: lockId ?? null });
}

/** add_key → KeyView: fetch a key created elsewhere by its id and follow it from now on */
export function addKey(keyId) {
  return call('add_key', { keyId });
}

// ---- activity: the local archive of every lock's events (docs/architecture.md section 7) -------

/**
 * activity_page → ActivityPage: the rows [offset, offset+limit) of the filtered list, newest first;
 * with count the totals too. filter: {range: {preset, from?, to?} | null, lock, person, action | null}
 */
export function activityPage(filter, offset, limit, count) {
  return call('activity_page', { filter, offset, limit, count });
}

/** activity_sync_status → SyncStatus; ask starts the sync at once instead of after its start delay */
export function activitySyncStatus(ask = false) {
  return call('activity_sync_status', { ask });
}

/** set_activity_sync_paused → SyncStatus */
export function setActivitySyncPaused(paused) {
  return call('set_activity_sync_paused', { paused });
}

/** set_keep_history → Settings. months: 2 | 6 | 12 | 24 | null (until deleted) */
export function setKeepHistory(months) {
  return call('set_keep_history', { months });
}

/**
 * delete_local_history → null | boolean: every archived event and every saved lock history; with
 * alsoOffice (team mode) the office's shared copy too — true when deleted there, false when the team
 * database could not take it.
 */
export function deleteLocalHistory(alsoOffice = false) {
  return call('delete_local_history', { alsoOffice });
}

// ---- people (docs/architecture.md section 8) ---------------------------------------------------

/** list_people → Person[] (the local directory, by name) */
export function listPeople() {
  return call('list_people');
}

/** save_person → Person. id null adds; phone as typed (Rust makes it E.164); note or null. */
export function savePerson({ id, name, phone, note }) {
  return call('save_person', { id: id ?? null, name, phone, note: note || null });
}

/** delete_person → null */
export function deletePerson(id) {
  return call('delete_person', { id });
}

/** person_page → PersonPage: the person, their keys, their latest events in the saved histories */
export function personPage(id) {
  return call('person_page', { id });
}

/** revoke_keys → RevokeOutcome[]: each key revoked in turn, each with what became of it */
export function revokeKeys(keyIds) {
  return call('revoke_keys', { keyIds });
}

/** choose_import_file → string | null: the OS open dialog (null when cancelled) */
export function chooseImportFile() {
  return call('choose_import_file');
}

/** preview_people_import → PeopleImport: what importing the file would add and skip */
export function previewPeopleImport(path) {
  return call('preview_people_import', { path });
}

/** import_people → PeopleImport: every good row added in one go, or none */
export function importPeople(path) {
  return call('import_people', { path });
}

// ---- export (docs/architecture.md section 9) ----------------------------------------------------

/** choose_export_path → string | null: the OS save dialog (null when cancelled). format: "xlsx" | "csv" */
export function chooseExportPath({ defaultName, format }) {
  return call('choose_export_path', { defaultName, format });
}

/**
 * export_lock_history → ExportDone: the saved history of one lock, written to path; with `shown`
 * ({rows, history, only | except}: views/lock-export.js historySelection) only the events on screen,
 * or a `conflict` error and no file when the saved history cannot give exactly those. language: "en" | "nb"
 */
export function exportLockHistory({ lockId, shown = null, path, format, language }) {
  return call('export_lock_history', { lockId, shown, path, format, language });
}

/** export_keys → ExportDone: every known key, written to path */
export function exportKeys({ path, format, language }) {
  return call('export_keys', { path, format, language });
}

/** export_activity → ExportDone: every archived event the Activity filter finds (an ActivityFilter) */
export function exportActivity({ filter, path, format, language }) {
  return call('export_activity', { filter, path, format, language });
}

/** export_visits → ExportDone: the "Visits per customer" report of month ("yyyy-mm") */
export function exportVisits({ month, path, format, language }) {
  return call('export_visits', { month, path, format, language });
}

/** visits_report → VisitsReport: the "Visits per customer" report of month ("yyyy-mm"), for the screen */
export function visitsReport(month) {
  return call('visits_report', { month });
}

export function checkForUpdate() {
  return call('check_for_update');
}

export function installUpdate() {
  return call('install_update');
}

/** Call back with the UpdateInfo of every `update-available` event. Returns a function that stops listening. */
export function onUpdateAvailable(callback) {
  return listenTo('update-available', (payload) => callback(payload ?? null));
}

/**
 * Call back with the KeyView[] of every `keys-changed` event. Returns a function that stops
 * listening (safe to call at once, before Tauri has finished registering the listener).
 */
export function onKeysChanged(callback) {
  return listenTo('keys-changed', (payload) => callback(Array.isArray(payload) ? payload : []));
}

function listenTo(name, callback) {
  const listen = globalThis.__TAURI__?.event?.listen;
  if (typeof listen !== 'function') return () => {};
  let stopped = false;
  let unlisten = null;
  Promise.resolve(
    listen(name, (event) => {
      if (!stopped) callback(event?.payload);
    }),
  ).then(
    (fn) => {
      if (stopped) fn?.();
      else unlisten = fn;
    },
    (err) => console.error(`Could not listen for ${name}`, toAppError(err)),
  );
  return () => {
    stopped = true;
    unlisten?.();
    unlisten = null;
  };
}
