// The Activity view to Excel, CSV or paper. The export holds every archived event its shown filter
// finds (not only the rows fetched so far), written by Rust from the local archive; the printout the
// first PRINT_ROW_LIMIT of them, fetched for it, under the filter they were chosen by. Both settle
// the filter being typed first and then use the one on screen (filter-query.js says why); Ctrl+P
// cannot wait, so it prints the filter and rows on screen as they are.

import { activityPage, exportActivity } from '../ipc.js';
import { t } from '../i18n.js';
import { headingsOf, PRINT_ROW_LIMIT, wireExport } from './export-actions.js';

// activity_page gives at most this many rows per call.
const PAGE = 1000;

/** Wire the export and print buttons of the Activity view (views/activity.js). */
export function wireActivityExport(view) {
  return wireExport(view.el, {
    fileName: () => t('export.name.activity'),
    run: (request) => exportShown(view, request),
    print: ({ now }) => (now ? printModel(view, view.filters.shown, loadedRows(view)) : printShown(view)),
  });
}

/** Export what the Activity view shows once its filter is settled (the button's work after the save dialog). */
export async function exportShown(view, request) {
  return exportActivity({ filter: (await shownFilter(view)).filter, ...request });
}

async function printShown(view) {
  const shown = await shownFilter(view);
  return printModel(view, shown, await fetchRows(view, shown.filter));
}

/** The settled filter on screen; none when no answer was ever shown (its error is on screen). */
async function shownFilter(view) {
  const shown = await view.filters.settled();
  if (!shown) throw { kind: 'invalidInput', message: 'no activity filter has rows on screen' };
  return shown;
}

function printModel(view, shown, rows) {
  return {
    title: t('activity.heading'),
    filter: filterText(view, shown?.values),
    headings: headingsOf(view.el.querySelector('.activity-table')),
    rows,
    columns: view.rows.o.columns,
    total: view.result?.total ?? rows.length,
  };
}

/** The rows the filter finds, from the top, up to what a printout holds. */
async function fetchRows(view, filter) {
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

/** "This week · Lock or customer: “storgata” · Unlocked · 18 of 1,170 events": the shown filter's choices. */
function filterText(view, values) {
  if (!values) return '';
  const ui = view.ui;
  const label = (select, value) => [...select.options].find((option) => option.value === value)?.textContent ?? '';
  const parts = [];
  if (values.range === 'between') {
    parts.push(`${values.from.trim() || '…'} – ${values.to.trim() || '…'}`);
  } else {
    parts.push(label(ui.range, values.range));
  }
  if (values.lock.trim()) parts.push(`${t('activity.lock.label')}: “${values.lock.trim()}”`);
  if (values.person.trim()) parts.push(`${t('activity.person.label')}: “${values.person.trim()}”`);
  parts.push(label(ui.action, values.action));
  parts.push(view.countText());
  return parts.filter(Boolean).join(' · ');
}
