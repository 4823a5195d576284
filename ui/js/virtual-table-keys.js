// The keyboard in a virtual table (virtual-table.js): arrows, Page Up/Down, Home and End move between
// rows, Enter and Space open one, ArrowDown in the header goes to the rows.

const NAV_KEYS = new Set(['ArrowDown', 'ArrowUp', 'PageDown', 'PageUp', 'Home', 'End']);
// Controls inside a row (a revoke button, a lock link) handle their own clicks and keys.
const CONTROLS = 'button, a[href], input, select, textarea, [role="button"]';

export function inControl(target, row) {
  const control = target instanceof Element ? target.closest(CONTROLS) : null;
  return Boolean(control && row?.contains(control));
}

/** @param {import('./virtual-table.js').VirtualTable} table */
export function onTableKeyDown(table, e) {
  if (e.altKey || e.defaultPrevented) return;
  const inHeader = table.thead.contains(e.target);
  const pos = table.positionOfRow(e.target);
  const onScroller = e.target === table.scroller;
  if (inHeader) {
    if (e.key === 'ArrowDown' && table.length) {
      e.preventDefault();
      table.focusPosition(table.activePos);
    }
    return;
  }
  if (pos === null && !onScroller) return;
  const current = pos ?? table.activePos;
  if ((e.key === 'Enter' || e.key === ' ') && pos !== null) {
    if (inControl(e.target, e.target.closest('tr'))) return;
    e.preventDefault();
    table.onActivate?.(table.indices[pos]);
    return;
  }
  if (!NAV_KEYS.has(e.key) || e.shiftKey) return;
  const page = Math.max(1, Math.floor((table.scroller.clientHeight - table.thead.offsetHeight) / table.rowHeight) - 1);
  const next = {
    ArrowDown: current + 1,
    ArrowUp: current - 1,
    PageDown: current + page,
    PageUp: current - page,
    Home: 0,
    End: table.length - 1,
  }[e.key];
  e.preventDefault();
  table.focusPosition(next);
}
