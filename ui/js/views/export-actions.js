// Export and print for one view. "Export to Excel" / "Export to CSV" ask the OS where to save (the
// save dialog), then Rust writes the file and says how many rows went where. "Print" lays the rows
// the view shows into a plain table that only a printout sees (the on-screen table is virtualized:
// it holds only the rows in sight), with what is shown — the filter — at the top; print.css does the rest.
//
// Markup in the view's template (ids for the end-to-end tests):
//   <div class="export-actions"> <button data-export="xlsx"> <button data-export="csv"> <button data-print>
//   <p role="status" data-ref="exportStatus"> </div> <div class="alert" role="alert" data-ref="exportError">

import { chooseExportPath } from '../ipc.js';
import { getLanguage, t, tn } from '../i18n.js';
import { renderError } from '../errors.js';
import { exportFileName, fileDate } from '../export-name.js';
import { formatDateTimeLong, formatNumber } from '../format.js';

// A printout of more rows than this is a book, not a page: the export is for that.
const PRINT_ROW_LIMIT = 5000;

/**
 * @param {HTMLElement} root  the view's section (holds the buttons, the status and the error box)
 * @param {object} o
 * @param {() => string} o.fileName  the default name without extension and date ("Event history Bod 12")
 * @param {(request: {path: string, format: string, language: string}) => Promise<{path: string, rows: number}>} o.run
 * @param {() => {title: string, filter: string, list: import('./list-view.js').ListView}} [o.print]
 * @returns {{clear: () => void}}
 */
export function wireExport(root, o) {
  const status = root.querySelector('[data-ref="exportStatus"]');
  const error = root.querySelector('[data-ref="exportError"]');
  const buttons = [...root.querySelectorAll('[data-export]')];
  const exportAs = async (format) => {
    error.replaceChildren();
    let path;
    try {
      path = await chooseExportPath({ defaultName: exportFileName(`${o.fileName()} ${fileDate()}`, format), format });
    } catch (raw) {
      renderError(error, raw);
      return;
    }
    if (!path) return; // cancelled: nothing to say
    buttons.forEach((b) => (b.disabled = true));
    status.textContent = t('export.working');
    try {
      const done = await o.run({ path, format, language: getLanguage() });
      status.textContent = tn('export.done', done.rows, { count: formatNumber(done.rows), path: done.path });
    } catch (raw) {
      status.textContent = '';
      renderError(error, raw, { context: 'export' });
      error.focus();
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  };
  for (const button of buttons) button.addEventListener('click', () => exportAs(button.dataset.export));
  const exporter = {
    /** Another lock or list: the last export's words go. */
    clear() {
      status.textContent = '';
      error.replaceChildren();
    },
  };
  if (!o.print) return exporter;
  const sheet = document.createElement('div');
  sheet.className = 'print-sheet';
  root.append(sheet);
  const prepare = () => fillPrintSheet(sheet, o.print());
  root.querySelector('[data-print]')?.addEventListener('click', () => {
    prepare();
    window.print();
  });
  // Ctrl+P too: the printout is laid out just before, for the view on screen.
  window.addEventListener('beforeprint', () => {
    if (root.isConnected) prepare();
  });
  window.addEventListener('afterprint', () => sheet.replaceChildren());
  return exporter;
}

/** The print-only copy of what the list shows: a heading, the filter, when, and a plain table. */
function fillPrintSheet(sheet, { title, filter, list }) {
  const heading = document.createElement('h1');
  heading.textContent = title;
  const shown = document.createElement('p');
  shown.className = 'print-filter';
  shown.textContent = t('print.filter', { filter });
  const printed = document.createElement('p');
  printed.className = 'print-printed';
  printed.textContent = t('print.printed', { time: formatDateTimeLong(new Date()) });
  const parts = [heading, shown, printed];
  if (list.shown.length > PRINT_ROW_LIMIT) {
    const limited = document.createElement('p');
    limited.className = 'print-filter';
    limited.textContent = t('print.limited', { shown: formatNumber(PRINT_ROW_LIMIT), total: formatNumber(list.shown.length) });
    parts.push(limited);
  }
  const table = document.createElement('table');
  table.className = 'print-table';
  table.append(printHead(list), printRows(list));
  sheet.replaceChildren(...parts, table);
}

/** The column headings as plain text (no sort buttons: a copy must not be mistaken for the list). */
function printHead(list) {
  const head = document.createElement('thead');
  const tr = document.createElement('tr');
  for (const th of list.table.tHead.rows[0].cells) {
    const cell = document.createElement('th');
    cell.scope = 'col';
    cell.textContent = th.textContent.trim();
    tr.append(cell);
  }
  head.append(tr);
  return head;
}

function printRows(list) {
  const body = document.createElement('tbody');
  for (const i of list.shown.slice(0, PRINT_ROW_LIMIT)) {
    const tr = document.createElement('tr');
    list.o.columns.forEach((column) => {
      const td = document.createElement('td');
      column.fill(td, list.items[i], i);
      tr.append(td);
    });
    body.append(tr);
  }
  return body;
}
