// The Activity view to Excel, CSV or paper. The export holds every archived event its current filter
// finds (not only the rows fetched so far), written by Rust from the local archive; the printout the
// first PRINT_ROW_LIMIT of them, fetched for it, under the filter they were chosen by.

import { activityPage, exportActivity } from '../ipc.js';
import { t } from '../i18n.js';
import { headingsOf, PRINT_ROW_LIMIT, wireExport } from './export-actions.js';

// activity_page gives at most this many rows per call.
const PAGE = 1000;

/** Wire the export and print buttons of the Activity view (views/activity.js). */
export function wireActivityExport(view) {
  return wireExport(view.el, {
    fileName: () => t('export.name.activity'),
    run: (request) => exportActivity({ filter: view.currentFilter() ?? {}, ...request }),
    print: ({ now }) => (now ? printModel(view, loadedRows(view)) : fetchRows(view).then((rows) => printModel(view, rows))),
  });
}

function printModel(view, rows) {
  return {
    title: t('activity.heading'),
    filter: filterText(view),
    headings: headingsOf(view.el.querySelector('.activity-table')),
    rows,
    columns: view.rows.o.columns,
    total: view.result?.total ?? rows.length,
  };
}

/** The rows the filter finds, from the top, up to what a printout holds. */
async function fetchRows(view) {
  const filter = view.currentFilter() ?? {};
  const wanted = Math.min(view.result?.total ?? PRINT_ROW_LIMIT, PRINT_ROW_LIMIT);
  const rows = [];
  while (rows.length < wanted) {
    const page = await activityPage(filter, rows.length, Math.min(PAGE, wanted - rows.length), false);
    const got = Array.isArray(page?.rows) ? page.rows : [];
    rows.push(...got);
    if (got.length === 0) break;
  }
  return rows;
}

/** Ctrl+P cannot wait for Rust: the rows already fetched from the top, without a gap. */
function loadedRows(view) {
  const rows = [];
  for (let position = 0; position < PRINT_ROW_LIMIT; position++) {
    const row = view.rows.rowAt(position);
    if (!row) break;
    rows.push(row);
  }
  return rows;
}

/** "This week · Lock or customer: “storgata” · Unlocked · 18 of 1,170 events": the choices on screen. */
function filterText(view) {
  const ui = view.ui;
  const parts = [];
  if (ui.range.value === 'between') {
    parts.push(`${ui.from.value.trim() || '…'} – ${ui.to.value.trim() || '…'}`);
  } else {
    parts.push(ui.range.selectedOptions[0]?.textContent ?? '');
  }
  if (ui.lock.value.trim()) parts.push(`${t('activity.lock.label')}: “${ui.lock.value.trim()}”`);
  if (ui.person.value.trim()) parts.push(`${t('activity.person.label')}: “${ui.person.value.trim()}”`);
  parts.push(ui.action.selectedOptions[0]?.textContent ?? '');
  parts.push(ui.count.textContent);
  return parts.filter(Boolean).join(' · ');
}
