// One list for every table view (locks, a lock's history, keys, awaiting approval, and the views to
// come). A view gives it rows, columns, a filter and an empty state; the list renders them into a
// virtualized table, counts them, shows the empty state, handles the search box and opens a row on
// click or Enter. Locks and events load into it with CachedThenLive (list-loader.js).
//
//   const list = new ListView({
//     el,                                   // the view's <section>; its [data-ref="scroller"] holds the <table>
//     rowHeight: 44,
//     columns: [{ cell: 'lock-name', fill: (td, lock) => { td.textContent = lock.name; } }, ...],
//     row: (tr, lock) => tr.setAttribute('data-lock-id', lock.id),
//     searchText: (lock) => fold(lock.name),  // what the search box matches (once per setItems, after the first rows)
//     filter: (lock) => !optInOnly || lock.auth === 'opt-in',
//     search: el.querySelector('#locks-search'),
//     count: { el: countEl, text: (shown, total) => `${shown} of ${total}` },
//     empty: { id: 'locks-empty', none: () => ({ title, text }), noMatch: () => ({ title, text }) },
//     onOpen: (lock) => shell.navigate('lock', { lock }),
//   });
//   list.setItems(locks);
//
// Only text reaches the DOM here; a column's fill must use textContent / setAttribute too.

import { searchWords } from '../format.js';
import { SearchIndex } from '../search-index.js';
import { VirtualTable } from '../virtual-table.js';
import { firstStep } from '../timeline.js';
import { createEmptyState, debounceSearch } from './shared.js';

// Searches remembered while typing (a word typed letter by letter and erased again, ~2 × its length).
const MAX_REMEMBERED_SEARCHES = 24;

export class ListView {
  /**
   * @param {object} o
   * @param {HTMLElement} o.el  the view's section
   * @param {number} o.rowHeight  px, fixed (the table is virtualized)
   * @param {{cell: string, fill: (td: HTMLTableCellElement, item: any, index: number) => void}[]} o.columns
   *   one per <th>, in order; `cell` is the <td>'s class (the end-to-end tests find cells by it)
   * @param {(tr: HTMLTableRowElement, item: any) => void} [o.row]  mark a row: its data- id, classes
   * @param {string} [o.rowClass]  a class every row has (e.g. "row-link")
   * @param {(items: any[]) => void} [o.prepare]  derive per-item data once per setItems (before the rest)
   * @param {(item: any, index: number) => string} [o.searchText]  folded text the search words must all be in
   * @param {(items: any[]) => number[]} [o.order]  item indices in display order (default: as given)
   * @param {(item: any) => boolean} [o.filter]  the view's own filters; search words are applied here
   * @param {HTMLInputElement} [o.search]  debounced; ArrowDown goes to the first row
   * @param {boolean} [o.enterOpensOnlyRow]  Enter in the search box opens the one row left
   * @param {{el: HTMLElement, text: (shown: number, total: number) => string}} o.count  blank until loaded
   * @param {{id: string, none: () => object, noMatch?: () => object, onClear?: () => void}} o.empty
   *   none/noMatch return {title, text, action?}; onClear resets the view's own filter controls
   * @param {(item: any) => void} [o.onOpen]  click / Enter on a row
   */
  constructor(o) {
    this.o = o;
    this.scroller = o.el.querySelector('[data-ref="scroller"]');
    this.table = this.scroller.querySelector('table');
    this.search = o.search ?? null;
    this.items = [];
    this.index = null; // searchText of every item (SearchIndex), built when first needed (searchIndex)
    this.sorted = []; // every item index in display order
    this.shown = []; // sorted, then filtered: what the table shows
    // The rows of recent searches while typing (words key → rows), for the current items, order and
    // view filters: a search that extends one of them filters only its rows; erasing back finds it.
    this.searched = new Map();
    this.loaded = false;
    this.query = '';
    this.emptyState = createEmptyState(o.empty.id, () => {
      this.clearFilters();
      this.search?.focus();
    });
    this.virtual = new VirtualTable({
      scroller: this.scroller,
      table: this.table,
      rowHeight: o.rowHeight,
      createRow: () => this.createRow(),
      renderRow: (tr, i) => this.renderRow(tr, i),
      onActivate: o.onOpen ? (i) => o.onOpen(this.items[i]) : undefined,
    });
    this.name = this.virtual.name; // its steps on the page's timeline (firstStep), e.g. "locks-table:order"
    this.cancelSearch = this.search ? this.wireSearch() : () => {};
  }

  createRow() {
    const tr = document.createElement('tr');
    if (this.o.rowClass) tr.className = this.o.rowClass;
    for (const column of this.o.columns) {
      const td = document.createElement('td');
      td.className = column.cell;
      tr.append(td);
    }
    return tr;
  }

  renderRow(tr, i) {
    const item = this.items[i];
    this.o.row?.(tr, item);
    this.o.columns.forEach((column, c) => column.fill(tr.cells[c], item, i));
  }

  wireSearch() {
    this.search.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' && this.virtual.length) {
        e.preventDefault();
        this.virtual.focusPosition(0);
      } else if (e.key === 'Enter' && this.o.enterOpensOnlyRow && this.shown.length === 1) {
        this.o.onOpen?.(this.items[this.shown[0]]);
      }
    });
    return debounceSearch(this.search, (value) => {
      if (value !== this.query) this.applyFilter(true, { typed: true });
    });
  }

  /** New data: derive, order and filter it once; keystrokes then only filter. */
  setItems(items, { loaded = true } = {}) {
    this.items = items;
    this.loaded = loaded;
    firstStep(`${this.name}:prepare`, () => this.o.prepare?.(items));
    // The search texts wait until the first rows are painted (or a search needs them first).
    this.index = null;
    this.reorder();
    requestAnimationFrame(() => setTimeout(() => this.searchIndex()));
  }

  /** The folded search text of every item, built once per setItems. */
  searchIndex() {
    this.index ??= new SearchIndex(this.o.searchText ? this.items : [], this.o.searchText);
    return this.index;
  }

  /** No data yet (another lock is opening): nothing counted, no empty state, scrolled to the top. */
  clear() {
    this.items = [];
    this.index = null;
    this.sorted = [];
    this.shown = [];
    this.searched.clear();
    this.loaded = false;
    this.virtual.setRows([], { reset: true });
    this.renderCount();
    this.renderEmpty();
  }

  /** The order changed (a sort button, a language's collation): sort again, keep the scroll. */
  reorder() {
    this.sorted = firstStep(`${this.name}:order`, () => (this.o.order ? this.o.order(this.items) : this.items.map((_, i) => i)));
    this.applyFilter(false);
  }

  /**
   * Filter again; reset scrolls to the top. Only typing in the search box (typed) may reuse the rows
   * of an earlier search: any other call means the items, their order or the view's filters changed.
   */
  applyFilter(reset, { typed = false } = {}) {
    this.query = this.search?.value ?? ''; // the box as it is now, even if its debounced update is pending
    const words = searchWords(this.query);
    if (!typed) this.searched.clear();
    const key = words.join(' ');
    let rows = this.searched.get(key);
    if (!rows) {
      rows = firstStep(`${this.name}:filter`, () => this.filterRows(words, this.narrowestSearchedWithin(words)));
      this.remember(key, rows);
    }
    this.shown = rows;
    // Typing changes which items show, not the items: rows still showing the same item stay as they are.
    if (rows.length) firstStep(`${this.name}:rows`, () => this.virtual.setRows(rows, { reset, sameData: typed }));
    else this.virtual.setRows(rows, { reset, sameData: typed });
    this.renderCount();
    this.renderEmpty();
  }

  /**
   * The fewest rows of a remembered search that every row matching `words` is among: one whose
   * every word is part of one of the new words (typing on: "stor" → "storg", "stor 12").
   */
  narrowestSearchedWithin(words) {
    let best = null;
    for (const [key, rows] of this.searched) {
      const old = key ? key.split(' ') : [];
      const within = old.every((w) => words.some((word) => word.includes(w)));
      if (within && (!best || rows.length < best.length)) best = rows;
    }
    return best;
  }

  /** Display positions of `candidates` (default: every item in order) that pass the filters. */
  filterRows(words, candidates) {
    const keep = this.o.filter;
    const matches = words.length ? this.searchIndex().matcher(words) : null;
    const rows = [];
    for (const i of candidates ?? this.sorted) {
      if (!candidates && keep && !keep(this.items[i])) continue; // candidates passed it already
      if (matches && !matches(i)) continue;
      rows.push(i);
    }
    return rows;
  }

  remember(key, rows) {
    this.searched.set(key, rows);
    if (this.searched.size > MAX_REMEMBERED_SEARCHES) this.searched.delete(this.searched.keys().next().value);
  }

  /** Typing that still waits for its debounce is filtered now (a printout is about to show the rows). */
  settle() {
    if (this.search && this.search.value !== this.query) this.applyFilter(true, { typed: true });
  }

  /** The search box emptied and the view's own filters reset (its empty.onClear). */
  clearFilters() {
    if (this.search) this.search.value = '';
    this.o.empty.onClear?.();
    this.applyFilter(true);
  }

  renderCount() {
    const { el, text } = this.o.count;
    el.textContent = this.loaded ? text(this.shown.length, this.items.length) : '';
  }

  renderEmpty() {
    const none = this.loaded && this.items.length === 0;
    const noMatch = this.loaded && !none && this.shown.length === 0;
    this.table.hidden = none;
    const spec = none ? this.o.empty.none() : noMatch ? this.o.empty.noMatch?.() : null;
    if (spec) this.emptyState.show(this.scroller, { ...spec, withClear: noMatch });
    else this.emptyState.hide();
  }

  /** Re-fill the rows in view, the count and the empty state (a language change, a minute passed). */
  refresh() {
    this.virtual.refresh();
    this.renderCount();
    this.renderEmpty();
  }

  isShown(item) {
    const i = this.items.indexOf(item);
    return i >= 0 && this.shown.includes(i);
  }

  /** Focus the first row whose item matches; false when none is shown. */
  focusWhere(matches) {
    const i = this.items.findIndex(matches);
    return i >= 0 && this.virtual.focusDataIndex(i);
  }

  focusSearch() {
    this.search?.focus();
    this.search?.select();
  }

  /** Esc in a search box with text empties it; returns true when it did. */
  clearSearchOnEscape(e) {
    if (!this.search || e.target !== this.search || !this.search.value) return false;
    this.search.value = '';
    this.applyFilter(true);
    return true;
  }

  destroy() {
    this.cancelSearch();
    this.virtual.destroy();
  }
}
