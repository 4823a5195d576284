// A virtualized <tbody>: fixed row height, only the rows in view (plus a little overscan) exist in
// the DOM, two spacer rows keep the scrollbar honest. The caller filters and sorts on its own arrays
// and hands over an array of data indices; nothing here costs work proportional to the full list.
//
// Expected markup: scroller (overflow:auto, position:relative) > table > thead (sticky) + tbody.

import { inControl, onTableKeyDown } from './virtual-table-keys.js';

// The first frame showing rows of each kind of table is marked (User Timing, once per table class),
// e.g. `unloc:rows:data-table locks-table`: the benchmark (tests/bench) times start-up and sign-in by it.
const markedTables = new Set();

function markFirstRows(table) {
  const name = `unloc:rows:${table.className}`;
  if (markedTables.has(name)) return;
  markedTables.add(name);
  requestAnimationFrame(() => {
    performance.mark(name);
    // The first task after that frame: its style, layout and paint are done by then.
    const channel = new MessageChannel();
    channel.port1.onmessage = () => performance.mark(`unloc:frame-done:${table.className}`);
    channel.port2.postMessage(0);
  });
}

export class VirtualTable {
  /**
   * @param {object} o
   * @param {HTMLElement} o.scroller     the scrolling container
   * @param {HTMLTableElement} o.table
   * @param {number} o.rowHeight         px; CSS must not let content grow a row
   * @param {() => HTMLTableRowElement} o.createRow   an empty row with its cells
   * @param {(tr: HTMLTableRowElement, dataIndex: number) => void} o.renderRow  fill a row (textContent only)
   * @param {(dataIndex: number) => void} [o.onActivate]  click / Enter on a row
   * @param {number} [o.overscan]
   */
  constructor({ scroller, table, rowHeight, createRow, renderRow, onActivate, overscan = 6 }) {
    this.scroller = scroller;
    this.table = table;
    this.thead = table.tHead;
    this.tbody = table.tBodies[0];
    this.rowHeight = rowHeight;
    this.createRow = createRow;
    this.renderRow = renderRow;
    this.onActivate = onActivate;
    this.overscan = overscan;
    this.columns = this.thead.rows[0].cells.length;
    this.name = table.classList[table.classList.length - 1] ?? 'table'; // e.g. "locks-table", on the page's timeline

    this.indices = [];
    this.rendered = new Map(); // position in `indices` → <tr>
    this.filled = new WeakMap(); // <tr> → the data index it shows (absent: fill it again)
    this.pool = [];
    this.activePos = 0;
    this.frame = 0;

    this.topSpacer = this.makeSpacer();
    this.bottomSpacer = this.makeSpacer();
    this.tbody.replaceChildren(this.topSpacer, this.bottomSpacer);
    this.table.setAttribute('aria-rowcount', '1');

    this.onScroll = () => this.schedule();
    scroller.addEventListener('scroll', this.onScroll, { passive: true });
    scroller.addEventListener('keydown', (e) => onTableKeyDown(this, e));
    this.tbody.addEventListener('click', (e) => {
      const pos = this.positionOfRow(e.target);
      if (pos === null) return;
      this.setActive(pos);
      if (inControl(e.target, e.target.closest('tr'))) return;
      this.onActivate?.(this.indices[pos]);
    });
    this.tbody.addEventListener('focusin', (e) => {
      const pos = this.positionOfRow(e.target);
      if (pos !== null) this.setActive(pos);
    });
    this.offset = null; // bodyOffset(), measured once per size of the scroller and the header
    // Until the scroller has been laid out with a size, rows are placed without asking for it (see
    // render): asking would make WebKit lay out the whole new view before the first rows can be
    // painted, and again in that frame; the ResizeObserver then says the size and rows are placed again.
    this.sized = typeof ResizeObserver !== 'function';
    if (!this.sized) {
      this.resizeObserver = new ResizeObserver((entries) => {
        this.offset = null;
        if (entries.some((entry) => entry.target === scroller && entry.contentRect.height > 0)) this.sized = true;
        this.schedule();
      });
      this.resizeObserver.observe(scroller);
      this.resizeObserver.observe(this.thead); // a language's longer headings, the table hidden and shown
    }
  }

  makeSpacer() {
    const tr = document.createElement('tr');
    tr.className = 'vt-spacer';
    tr.setAttribute('aria-hidden', 'true');
    tr.hidden = true;
    const td = document.createElement('td');
    td.colSpan = this.columns;
    tr.append(td);
    return tr;
  }

  /** Show these data indices in this order; reset scrolls to the top. sameData: rows showing the same index stay. */
  setRows(indices, { reset = false, sameData = false } = {}) {
    if (!sameData) this.invalidate();
    this.indices = indices;
    this.table.setAttribute('aria-rowcount', String(indices.length + 1));
    if (this.activePos >= indices.length) this.activePos = Math.max(0, indices.length - 1);
    if (reset) {
      this.activePos = 0;
      if (this.sized) this.scroller.scrollTop = 0; // never laid out with a size: it is at the top
    }
    this.render(true);
    if (indices.length) markFirstRows(this.table);
  }

  get length() {
    return this.indices.length;
  }

  /** Re-fill the rows in view, e.g. after a language change. */
  refresh() {
    this.offset = null;
    this.invalidate();
    this.render(true);
  }

  /** The data behind the indices changed: the next render fills every row again. */
  invalidate() {
    this.filled = new WeakMap();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render(false);
    });
  }

  // Top of the first body row, in the scroller's content coordinates (below caption and thead).
  // Kept until the scroller or the header changes size: measuring it on every render (every
  // keystroke, every scrolled frame) would make the browser lay out the page there and then.
  bodyOffset() {
    if (this.offset !== null) return this.offset;
    const s = this.scroller.getBoundingClientRect();
    const b = this.tbody.getBoundingClientRect();
    const offset = b.top - s.top - this.scroller.clientTop + this.scroller.scrollTop;
    if (s.height > 0 && !this.table.hidden) this.offset = offset; // hidden or detached: measure again
    return offset;
  }

  render(force) {
    const n = this.indices.length;
    const rh = this.rowHeight;
    let first = 0;
    let last = 0;
    if (n > 0 && !this.sized) {
      // Not laid out yet, so at the top: the rows a window's height holds, which the scroller inside it cannot exceed.
      last = Math.min(n, Math.ceil(window.innerHeight / rh) + this.overscan);
    } else if (n > 0) {
      const view = this.scroller.clientHeight;
      // A detached or hidden scroller has no height: render one screenful so rows exist anyway.
      const height = view > 0 ? view : 800;
      const top = this.scroller.scrollTop - this.bodyOffset();
      first = Math.max(0, Math.floor(top / rh) - this.overscan);
      last = Math.min(n, Math.ceil((top + height) / rh) + this.overscan);
      if (first >= last) first = Math.max(0, last - 1);
    }

    const focusedPos = this.positionOfRow(document.activeElement);
    for (const [pos, tr] of this.rendered) {
      if (pos < first || pos >= last) {
        this.rendered.delete(pos);
        tr.remove();
        this.pool.push(tr);
      } else if (force) {
        this.fill(tr, pos);
      }
    }
    // Only new rows are inserted; kept rows never move, so a focused row keeps its focus.
    let cursor = this.topSpacer.nextSibling;
    for (let pos = first; pos < last; pos++) {
      let tr = this.rendered.get(pos);
      if (!tr) {
        tr = this.pool.pop() ?? this.newRow();
        this.fill(tr, pos);
        this.rendered.set(pos, tr);
      }
      if (tr === cursor) cursor = cursor.nextSibling;
      else this.tbody.insertBefore(tr, cursor);
    }
    this.setSpacer(this.topSpacer, first * rh);
    this.setSpacer(this.bottomSpacer, (n - last) * rh);
    this.updateTabStops();
    // The focused row scrolled away and was recycled: keep focus in the table, not on <body>.
    if (focusedPos !== null && !this.rendered.has(focusedPos) && !this.scroller.contains(document.activeElement)) {
      this.scroller.focus({ preventScroll: true });
    }
  }

  newRow() {
    const tr = this.createRow();
    tr.style.height = `${this.rowHeight}px`;
    return tr;
  }

  // A row showing this index at this position is left alone (while typing, rows that stay are not rewritten).
  fill(tr, pos) {
    const index = this.indices[pos];
    if (tr.dataset.pos === String(pos) && this.filled.get(tr) === index) return;
    tr.dataset.pos = String(pos);
    tr.setAttribute('aria-rowindex', String(pos + 2)); // the header row is row 1
    tr.classList.toggle('is-odd', pos % 2 === 1);
    this.renderRow(tr, index);
    this.filled.set(tr, index);
  }

  setSpacer(tr, px) {
    tr.hidden = px <= 0;
    tr.firstChild.style.height = `${px}px`;
  }

  // Roving tab stop: exactly one rendered row is in the tab order.
  updateTabStops() {
    let stop = this.rendered.has(this.activePos) ? this.activePos : null;
    if (stop === null && this.rendered.size) stop = Math.min(...this.rendered.keys());
    for (const [pos, tr] of this.rendered) tr.tabIndex = pos === stop ? 0 : -1;
  }

  setActive(pos) {
    if (pos === this.activePos) return;
    this.activePos = pos;
    this.updateTabStops();
  }

  positionOfRow(node) {
    const tr = node instanceof Element ? node.closest('tr[data-pos]') : null;
    if (!tr || tr.parentNode !== this.tbody) return null;
    return Number(tr.dataset.pos);
  }

  /** Position (in the current rows) of a data index, or -1. */
  positionOf(dataIndex) {
    return this.indices.indexOf(dataIndex);
  }

  /** Scroll so that the row at pos is fully visible below the sticky header. */
  scrollToPosition(pos) {
    // Scrolling reads the scroller's size (a layout) anyway: a scroller laid out already is sized
    // now, so the row scrolled to is rendered, not only the top rows placed before the first frame.
    if (!this.sized && this.scroller.clientHeight > 0) this.sized = true;
    const rh = this.rowHeight;
    const top = this.bodyOffset() + pos * rh;
    const header = this.thead.offsetHeight;
    const s = this.scroller;
    if (top - header < s.scrollTop) s.scrollTop = top - header;
    else if (top + rh > s.scrollTop + s.clientHeight) s.scrollTop = top + rh - s.clientHeight;
  }

  /** Move the keyboard focus to the row at pos (scrolling as needed). */
  focusPosition(pos) {
    const n = this.indices.length;
    if (!n) return false;
    const p = Math.min(Math.max(0, pos), n - 1);
    this.activePos = p;
    this.scrollToPosition(p);
    this.render(false);
    const tr = this.rendered.get(p);
    tr?.focus({ preventScroll: true });
    return Boolean(tr);
  }

  /** Focus the row of a data index if it is in the current rows. */
  focusDataIndex(dataIndex) {
    const pos = this.positionOf(dataIndex);
    return pos >= 0 ? this.focusPosition(pos) : false;
  }

  destroy() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.resizeObserver?.disconnect();
    this.scroller.removeEventListener('scroll', this.onScroll);
  }
}
