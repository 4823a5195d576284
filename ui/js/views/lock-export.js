// A lock's history to Excel, CSV or paper: what the app has saved of it (no request to Unloc), and
// what the user sees. When the search or the event filter hides some rows, the file and the printout
// hold only the rows on screen, and say so: a note by the buttons ("Export and Print give only the 12
// of 340 events shown"), the file name the save dialog offers, and the filter at the top of a printout.
// Typing still waiting for its debounce is filtered first, so Export right after typing means the search typed.
// The rows are taken once, before the save dialog: the name it offers and the file say the same, even
// if the live history arrives while the dialog is open. Rust is told which rows those are in as few
// words as it can check (see historySelection).

import { exportLockHistory } from '../ipc.js';
import { t, tn } from '../i18n.js';
import { formatNumber } from '../format.js';
import { listPrint, wireExport } from './export-actions.js';

/** Wire the export and print buttons of the lock view (views/lock.js). */
export function wireLockExport(view) {
  const lockName = () => view.lock?.name || t('locks.unnamed');
  const exporter = wireExport(view.el, {
    // The lock is taken with the rows: the save dialog does not block the window, and the user may
    // open another lock while it is open.
    scope: () => ({ ...shownScope(view.list), lockId: view.lock?.id }),
    fileName: (scope) => historyFileName(lockName(), scope),
    run: (request, scope) => exportShownHistory(view, request, scope),
    print: () => {
      // The printout names the search its rows answer: typing still in its debounce is filtered first.
      view.list.settle();
      return listPrint({ title: t('events.caption', { name: lockName() }), filter: filterText(view), list: view.list });
    },
  });
  const note = view.el.querySelector('[data-ref="exportScope"]');
  /** The note by the buttons: said only while the rows on screen are fewer than the history. */
  exporter.showScope = (shown, total) => {
    note.textContent = shown < total ? scopeNote(shown, total) : '';
    note.hidden = shown >= total;
  };
  const clear = exporter.clear;
  exporter.clear = () => (clear(), exporter.showScope(0, 0)); // another lock: nothing is filtered yet
  return exporter;
}

/**
 * What the export holds once typing is settled: {shown, total, items, rows}; items is the history on
 * screen and rows the indexes of its rows shown (both kept as they are: the list replaces them, never
 * changes them, when it filters again or new events arrive). While the history is still loading
 * nothing is on screen to choose from: {whole: true}, the whole saved history.
 */
export function shownScope(list) {
  if (!list.loaded) return { whole: true, shown: 0, total: 0 };
  list.settle();
  return { shown: list.shown.length, total: list.items.length, items: list.items, rows: list.shown };
}

/**
 * Which events of the saved history the export writes, as export_lock_history reads it: the ids of the
 * rows shown ({only}), or — when fewer — the ids of the rows hidden ({except}; none when all are
 * shown), with `rows`, how many the file must hold, and `history`, the ids of the whole history on
 * screen summed up (historyDigest). Rust writes the file only if it holds exactly those rows: an
 * {except} only when its saved history is the one on screen. With only: true, always {only}.
 * (100,000 events, 90,000 shown: 10,000 ids sent instead of 90,000.)
 */
export function historySelection({ shown, total, items, rows }, { only = false } = {}) {
  const selection = { rows: shown, history: historyDigest(items) };
  if (only || shown <= total - shown) return { ...selection, only: rows.map((i) => String(items[i].id)) };
  const isShown = new Uint8Array(total);
  for (const i of rows) isShown[i] = 1;
  const except = [];
  for (let i = 0; i < total; i++) if (!isShown[i]) except.push(String(items[i].id));
  return { ...selection, except };
}

/**
 * The ids of a history in a few characters, in any order: how many, and two 32-bit sums of a hash of
 * each id's UTF-16 code units (FNV-1a, and djb2 with xor), as 16 hex digits. The same as
 * `history_digest` in src-tauri/src/export/tables.rs, which checks it against the saved history.
 */
export function historyDigest(items) {
  let a = 0;
  let b = 0;
  for (const item of items) {
    const id = String(item.id);
    let h1 = 0x811c9dc5;
    let h2 = 5381;
    for (let k = 0; k < id.length; k++) {
      const unit = id.charCodeAt(k);
      h1 = Math.imul(h1 ^ unit, 0x01000193);
      h2 = Math.imul(h2, 33) ^ unit;
    }
    a = (a + (h1 >>> 0)) >>> 0;
    b = (b + (h2 >>> 0)) >>> 0;
  }
  const hex = (n) => n.toString(16).padStart(8, '0');
  return { count: items.length, sum: hex(a) + hex(b) };
}

/** "Export and Print give only the 12 of 340 events shown …", in the plural form of the rows shown. */
export function scopeNote(shown, total) {
  if (shown === 0) return t('export.scope.historyNone');
  return tn('export.scope.history', shown, { shown: formatNumber(shown), total: formatNumber(total) });
}

// A file name is kept short (export-name.js): a long lock name is cut first, so that "(12 of 340
// events)" and the date after it stay in the name.
const NAME_IN_FILE = 48;

/** "Event history Bod 12", or "Event history Bod 12 (12 of 340 events)" when filtered. */
export function historyFileName(name, { shown, total }) {
  const chars = [...name];
  const lock = chars.length > NAME_IN_FILE ? `${chars.slice(0, NAME_IN_FILE - 1).join('').trim()}…` : name;
  if (shown >= total) return t('export.name.history', { lock });
  return t('export.name.historyShown', { lock, shown, total });
}

/**
 * Write the history the lock view showed when Export was clicked (`scope`; the button's work after
 * the save dialog). Hidden ids are sent when fewer; if the saved history is no longer the one on
 * screen then (the live history saved meanwhile), the shown ids are sent instead: those rows, or
 * nothing and an error (`conflict`) if some are no longer saved.
 */
export async function exportShownHistory(view, request, scope = shownScope(view.list)) {
  const lockId = scope.lockId ?? view.lock.id;
  const send = (shown) => exportLockHistory({ lockId, shown, ...request });
  if (scope.whole) return send(null);
  const selection = historySelection(scope);
  if (!selection.except) return send(selection);
  try {
    return await send(selection);
  } catch (error) {
    if (error?.kind !== 'conflict') throw error;
    return send(historySelection(scope, { only: true }));
  }
}

/** "Locked · Search: “kari” · Showing 3 of 120 events": the choices on screen, in their words. */
function filterText(view) {
  const action = view.action.selectedOptions[0]?.textContent ?? '';
  const query = view.list.query.trim();
  const parts = [action];
  if (query) parts.push(`${t('events.search.label')}: “${query}”`);
  parts.push(view.el.querySelector('#events-count').textContent);
  return parts.filter(Boolean).join(' · ');
}
