// The Activity table: a virtualized table whose rows live in Rust. It knows only how many rows the
// filter matches; the rows in view are asked for a window at a time (activity_page with an offset)
// and kept in a few cached windows, so a million archived events never come to the page at once.
// A row not fetched yet shows empty until its window arrives. Only text reaches the DOM.

import { VirtualTable } from '../virtual-table.js';
import { STALE, ShownFilter } from './shown-filter.js';

export const WINDOW = 200;
// Windows kept around the ones in view; older ones are dropped.
const KEPT_WINDOWS = 12;

export class ActivityRows {
  /**
   * @param {object} o
   * @param {HTMLElement} o.scroller  holds the <table>
   * @param {number} o.rowHeight
   * @param {{cell: string, fill: (td: HTMLTableCellElement, row: object) => void}[]} o.columns
   * @param {(filter: object|null, offset: number, limit: number) => Promise<object>} o.fetch  activity_page
   *   without count, for the filter of the rows shown
   * @param {(row: object) => void} o.onOpen
   * @param {(error: object) => void} o.onError
   */
  constructor(o) {
    this.o = o;
    this.windows = new Map(); // window number → rows (an Array) | 'loading'
    this.shown = new ShownFilter(); // a new filter makes answers to older questions worthless
    this.total = 0;
    this.virtual = new VirtualTable({
      scroller: o.scroller,
      table: o.scroller.querySelector('table'),
      rowHeight: o.rowHeight,
      createRow: () => this.createRow(),
      renderRow: (tr, position) => this.renderRow(tr, position),
      onActivate: (position) => {
        const row = this.rowAt(position);
        if (row) o.onOpen(row);
      },
    });
  }

  createRow() {
    const tr = document.createElement('tr');
    tr.className = 'row-link';
    for (const column of this.o.columns) {
      const td = document.createElement('td');
      td.className = column.cell;
      tr.append(td);
    }
    return tr;
  }

  rowAt(position) {
    const rows = this.windows.get(Math.floor(position / WINDOW));
    return Array.isArray(rows) ? rows[position % WINDOW] ?? null : null;
  }

  renderRow(tr, position) {
    const row = this.rowAt(position);
    if (!row) {
      tr.removeAttribute('data-event-id');
      tr.removeAttribute('data-lock-id');
      tr.classList.add('is-pending');
      for (const td of tr.cells) td.textContent = '';
      this.request(Math.floor(position / WINDOW));
      return;
    }
    tr.classList.remove('is-pending');
    tr.setAttribute('data-event-id', row.id);
    tr.setAttribute('data-lock-id', row.lockId);
    this.o.columns.forEach((column, c) => column.fill(tr.cells[c], row));
  }

  /** Fetch one window of rows (once), then fill the rows in view. */
  async request(number) {
    if (this.windows.has(number)) return;
    this.windows.set(number, 'loading');
    try {
      const page = await this.shown.ask((filter) => this.o.fetch(filter, number * WINDOW, WINDOW));
      if (page === STALE) return;
      this.keep(number, Array.isArray(page?.rows) ? page.rows : []);
      this.virtual.refresh();
    } catch (error) {
      this.windows.delete(number);
      this.o.onError(error);
    }
  }

  keep(number, rows) {
    this.windows.set(number, rows);
    while (this.windows.size > KEPT_WINDOWS) {
      // Drop the window farthest from this one.
      let farthest = number;
      for (const kept of this.windows.keys()) if (Math.abs(kept - number) > Math.abs(farthest - number)) farthest = kept;
      this.windows.delete(farthest);
    }
  }

  /**
   * A new answer to `filter`: `total` rows, the first window already fetched with the count.
   * reset scrolls to the top (a new filter); otherwise the position is kept (the archive grew).
   */
  setResult(filter, total, firstRows, { reset }) {
    this.shown.show(filter);
    this.windows.clear();
    this.windows.set(0, firstRows);
    this.total = total;
    const positions = new Int32Array(total);
    for (let i = 0; i < total; i++) positions[i] = i;
    this.virtual.setRows(positions, { reset });
  }

  /** Forget every row (signed out, or the archive was deleted). */
  clear() {
    this.setResult(null, 0, [], { reset: true });
  }

  focusFirst() {
    return this.virtual.focusPosition(0);
  }

  refresh() {
    this.virtual.refresh();
  }

  destroy() {
    this.shown.forget();
    this.virtual.destroy();
  }
}
