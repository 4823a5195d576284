// A lock's history to Excel, CSV or paper: what the app has saved of it (no request to Unloc), and
// on paper the rows the view shows, under the filter they were chosen by.

import { exportLockHistory } from '../ipc.js';
import { t } from '../i18n.js';
import { listPrint, wireExport } from './export-actions.js';

/** Wire the export and print buttons of the lock view (views/lock.js). */
export function wireLockExport(view) {
  const lockName = () => view.lock?.name || t('locks.unnamed');
  return wireExport(view.el, {
    fileName: () => t('export.name.history', { lock: lockName() }),
    run: (request) => exportLockHistory({ lockId: view.lock.id, ...request }),
    print: () => {
      // The printout names the search its rows answer: typing still in its debounce is filtered first.
      view.list.settle();
      return listPrint({ title: t('events.caption', { name: lockName() }), filter: filterText(view), list: view.list });
    },
  });
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
