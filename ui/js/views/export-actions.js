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
export const PRINT_ROW_LIMIT = 5000;

/**
 * @param {HTMLElement} root  the view's section (holds the buttons, the status and the error box)
 * @param {object} o
 * @param {() => any} [o.scope]  what the export will write, taken once before the save dialog: the
 *   name offered and the rows written are both made from it, so a list that changes while the dialog
 *   is open (the live history arriving) cannot make them disagree
 * @param {(scope: any) => string} o.fileName  the default name without extension and date ("Event history Bod 12")
 * @param {(request: {path: string, format: string, language: string}, scope: any) => Promise<{path: string, rows: number}>} o.run
 * @param {(o: {now: boolean}) => PrintModel | Promise<PrintModel>} [o.print]  what a printout shows; with
 *   now: true (Ctrl+P's beforeprint, which cannot wait) it must answer at once, with what it has
 * @returns {{clear: () => void}}
 */
export function wireExport(root, o) {
  const status = root.querySelector('[data-ref="exportStatus"]');
  const error = root.querySelector('[data-ref="exportError"]');
  const buttons = [...root.querySelectorAll('[data-export]')];
  const exportAs = async (format) => {
    error.replaceChildren();
    let path;
    let scope;
    try {
      scope = o.scope?.();
      path = await chooseExportPath({ defaultName: exportFileName(`${o.fileName(scope)} ${fileDate()}`, format), format });
    } catch (raw) {
      renderError(error, raw);
      return;
    }
    if (!path) return; // cancelled: nothing to say
    buttons.forEach((b) => (b.disabled = true));
    status.textContent = t('export.working');
    try {
      const done = await o.run({ path, format, language: getLanguage() }, scope);
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
  let printing = false; // the Print button laid the sheet out already
  root.querySelector('[data-print]')?.addEventListener('click', async () => {
    try {
      fillPrintSheet(sheet, await o.print({ now: false }));
    } catch (raw) {
      renderError(error, raw);
      return;
    }
    printing = true;
    try {
      window.print();
    } finally {
      printing = false;
    }
  });
  // Ctrl+P too: the printout is laid out just before, for the view on screen.
  window.addEventListener('beforeprint', () => {
    if (root.isConnected && !printing) fillPrintSheet(sheet, o.print({ now: true }));
  });
  window.addEventListener('afterprint', () => sheet.replaceChildren());
  return exporter;
}

/**
 * @typedef {object} PrintModel
 * @property {string} title
 * @property {string} filter  what is shown, in the user's words
 * @property {string[]} headings
 * @property {object[]} rows  at most PRINT_ROW_LIMIT are printed
 * @property {{fill: (td: HTMLTableCellElement, row: object) => void}[]} columns
 * @property {number} total  how many rows there are in all
 */

/** A ListView's printout: its headings, and the rows it shows, filled as on screen. */
export function listPrint({ title, filter, list }) {
  return {
    title,
    filter,
    headings: headingsOf(list.table),
    rows: list.shown.slice(0, PRINT_ROW_LIMIT).map((i) => list.items[i]),
    columns: list.o.columns,
    total: list.shown.length,
  };
}

/** The headings of a view's on-screen table, as plain text (no sort buttons). */
export function headingsOf(table) {
  return [...table.tHead.rows[0].cells].map((th) => th.textContent.trim());
}

/** The print-only copy of what the view shows: a heading, the filter, when, and a plain table. */
function fillPrintSheet(sheet, { title, filter, headings, rows, columns, total }) {
  const heading = document.createElement('h1');
  heading.textContent = title;
  const shown = document.createElement('p');
  shown.className = 'print-filter';
  shown.textContent = t('print.filter', { filter });
  const printed = document.createElement('p');
  printed.className = 'print-printed';
  printed.textContent = t('print.printed', { time: formatDateTimeLong(new Date()) });
  const parts = [heading, shown, printed];
  if (total > PRINT_ROW_LIMIT) {
    const limited = document.createElement('p');
    limited.className = 'print-filter';
    limited.textContent = t('print.limited', { shown: formatNumber(PRINT_ROW_LIMIT), total: formatNumber(total) });
    parts.push(limited);
  }
  const table = document.createElement('table');
  table.className = 'print-table';
  table.append(printHead(headings), printRows(rows, columns));
  sheet.replaceChildren(...parts, table);
}

/** The column headings as plain text (a copy must not be mistaken for the list). */
function printHead(headings) {
  const head = document.createElement('thead');
  const tr = document.createElement('tr');
  for (const text of headings) {
    const cell = document.createElement('th');
    cell.scope = 'col';
    cell.textContent = text;
    tr.append(cell);
  }
  head.append(tr);
  return head;
}

function printRows(rows, columns) {
  const body = document.createElement('tbody');
  for (const row of rows.slice(0, PRINT_ROW_LIMIT)) {
    const tr = document.createElement('tr');
    for (const column of columns) {
      const td = document.createElement('td');
      column.fill(td, row);
      tr.append(td);
    }
    body.append(tr);
  }
  return body;
}
