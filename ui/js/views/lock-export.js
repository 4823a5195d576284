// A lock's history to Excel, CSV or paper: what the app has saved of it (no request to Unloc), and
// what the user sees. When the search or the event filter hides some rows, the file and the printout
// hold only the rows on screen, and say so: a note by the buttons ("Export and Print give the 12 of
// 340 events shown"), the file name the save dialog offers, and the filter at the top of a printout.
// Typing still waiting for its debounce is filtered first, so Export right after typing means the search typed.

import { exportLockHistory } from '../ipc.js';
import { t } from '../i18n.js';
import { formatNumber } from '../format.js';
import { listPrint, wireExport } from './export-actions.js';

/** Wire the export and print buttons of the lock view (views/lock.js). */
export function wireLockExport(view) {
  const lockName = () => view.lock?.name || t('locks.unnamed');
  const exporter = wireExport(view.el, {
    fileName: () => historyFileName(lockName(), shownScope(view.list)),
    run: (request) => exportShownHistory(view, request),
    print: () => {
      // The printout names the search its rows answer: typing still in its debounce is filtered first.
      view.list.settle();
      return listPrint({ title: t('events.caption', { name: lockName() }), filter: filterText(view), list: view.list });
    },
  });
  const note = view.el.querySelector('[data-ref="exportScope"]');
  /** The note by the buttons: said only while the rows on screen are fewer than the history. */
  exporter.showScope = (shown, total) => {
    note.textContent = shown < total ? t('export.scope.history', { shown: formatNumber(shown), total: formatNumber(total) }) : '';
    note.hidden = shown >= total;
  };
  const clear = exporter.clear;
  exporter.clear = () => (clear(), exporter.showScope(0, 0)); // another lock: nothing is filtered yet
  return exporter;
}

/**
 * What the export holds once typing is settled: {shown, total, eventIds}; eventIds is null when every
 * event is on screen (the whole saved history is written), else the ids of the rows shown.
 */
export function shownScope(list) {
  list.settle();
  const total = list.items.length;
  const shown = list.shown.length;
  return { shown, total, eventIds: shown < total ? list.shown.map((i) => String(list.items[i].id)) : null };
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

/** Write the history the lock view shows (the button's work after the save dialog). */
export function exportShownHistory(view, request) {
  return exportLockHistory({ lockId: view.lock.id, eventIds: shownScope(view.list).eventIds, ...request });
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
