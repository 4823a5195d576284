// The locks list: every lock the owners granted this partner, with search, the opt-in filter,
// sorting and a virtualized table (10,000 locks is a normal partner). The saved list (cached_locks)
// shows at once, also offline; then Unloc is asked.

import { cachedLocks, listLocks } from '../ipc.js';
import { fillNodes, fromTemplate, t, tn } from '../i18n.js';
import { compareText, fold, formatAddress, formatNumber, grantBadge, grantKind, matchesAll, searchWords } from '../format.js';
import { VirtualTable } from '../virtual-table.js';
import { createEmptyState, debounceSearch, renderLoadState } from './shared.js';

const ROW_HEIGHT = 44;
const GRANT_ORDER = { 'opt-in': 0, 'opt-out': 1, unknown: 2 };

export function createLocksView(shell) {
  const el = fromTemplate('tpl-locks');
  const q = (sel) => el.querySelector(sel);
  const ui = {
    view: el,
    heading: q('#locks-heading'),
    progress: q('[data-ref="progress"]'),
    updated: q('#locks-updated'),
    refresh: q('#locks-refresh'),
    summaryText: q('[data-ref="summaryText"]'),
    filter: q('#filter-opt-in'),
    search: q('#locks-search'),
    count: q('#locks-count'),
    error: q('[data-ref="error"]'),
    scroller: q('[data-ref="scroller"]'),
    table: q('table'),
    sortButtons: [...el.querySelectorAll('th button[data-sort]')],
  };
  const optInCount = document.createElement('span');
  optInCount.id = 'opt-in-count';
  optInCount.className = 'count-number';
  const empty = createEmptyState('locks-empty', () => {
    clearFilters();
    ui.search.focus();
  });

  // Data, and arrays derived from it once per load (never per keystroke).
  let locks = [];
  let fetchedAt = null;
  let addresses = []; // display address per lock ('' = none)
  let haystacks = []; // folded name + address + reference per lock
  let sorted = []; // all lock indices in the current sort order
  let shownRows = []; // sorted, then filtered: what the table shows
  let optIns = 0;

  let loaded = false;
  let loading = false;
  let loadError = null;
  let destroyed = false;
  let query = '';
  let optInOnly = false;
  let sort = { key: 'name', dir: 1 };
  let savedScroll = 0;

  const table = new VirtualTable({
    scroller: ui.scroller,
    table: ui.table,
    rowHeight: ROW_HEIGHT,
    createRow,
    renderRow,
    onActivate: (i) => openLock(i),
  });

  function createRow() {
    const tr = document.createElement('tr');
    tr.className = 'row-link';
    for (const cls of ['lock-name', 'lock-address', 'lock-data', 'lock-auth']) {
      const td = document.createElement('td');
      td.className = cls;
      tr.append(td);
    }
    return tr;
  }

  function renderRow(tr, i) {
    const lock = locks[i];
    const [name, address, data, auth] = tr.cells;
    tr.setAttribute('data-lock-id', lock.id);
    setText(name, lock.name, 'locks.unnamed');
    setText(address, addresses[i], 'locks.noAddress');
    setText(data, referenceOf(lock), null);
    auth.replaceChildren(grantBadge(lock.auth));
  }

  // Text that may be missing: the placeholder is muted, and "—" is explained to screen readers.
  function setText(td, text, missingKey) {
    if (text) {
      td.textContent = text;
      td.setAttribute('title', text);
      td.classList.remove('is-missing');
      return;
    }
    td.removeAttribute('title');
    td.classList.add('is-missing');
    if (missingKey) {
      td.textContent = t(missingKey);
      return;
    }
    const dash = document.createElement('span');
    dash.setAttribute('aria-hidden', 'true');
    dash.textContent = t('common.none.symbol');
    const said = document.createElement('span');
    said.className = 'sr-only';
    said.textContent = t('common.none');
    td.replaceChildren(dash, said);
  }

  // ---- data -----------------------------------------------------------------------------------

  function setData(page) {
    locks = Array.isArray(page?.locks) ? page.locks : [];
    fetchedAt = page?.fetchedAt ?? new Date().toISOString();
    loaded = true;
    optIns = 0;
    for (const lock of locks) if (lock.auth === 'opt-in') optIns += 1;
    deriveTexts();
    sortAll();
    applyFilter(false);
    renderStatus();
  }

  function deriveTexts() {
    addresses = locks.map((lock) => formatAddress(lock));
    haystacks = locks.map((lock, i) => fold(`${lock.name ?? ''}\n${addresses[i]}\n${referenceOf(lock)}`));
  }

  function sortAll() {
    const dir = sort.dir;
    const byName = (a, b) => compareText(locks[a].name ?? '', locks[b].name ?? '');
    // Missing values go last in both directions; ties fall back to the name.
    const byText = (get) => (a, b) => {
      const x = get(a);
      const y = get(b);
      if (!x !== !y) return x ? -1 : 1;
      return dir * compareText(x, y) || byName(a, b);
    };
    const comparators = {
      name: (a, b) => dir * byName(a, b),
      address: byText((i) => {
        const l = locks[i];
        return addresses[i] ? `${l.city ?? ''}\u0001${l.street ?? ''}\u0001${addresses[i]}` : '';
      }),
      data: byText((i) => referenceOf(locks[i])),
      auth: (a, b) =>
        dir * (GRANT_ORDER[grantKind(locks[a].auth)] - GRANT_ORDER[grantKind(locks[b].auth)]) ||
        compareText(locks[a].auth ?? '', locks[b].auth ?? '') ||
        byName(a, b),
    };
    sorted = Array.from(locks, (_, i) => i).sort(comparators[sort.key]);
    for (const button of ui.sortButtons) {
      const th = button.parentElement;
      if (button.dataset.sort === sort.key) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
  }

  function applyFilter(reset) {
    query = ui.search.value; // the box as it is now, even if its debounced update is still pending
    const words = searchWords(query);
    const rows = [];
    for (const i of sorted) {
      if (optInOnly && locks[i].auth !== 'opt-in') continue;
      if (words.length && !matchesAll(haystacks[i], words)) continue;
      rows.push(i);
    }
    shownRows = rows;
    table.setRows(rows, { reset });
    renderCounts();
    renderEmpty();
  }

  function clearFilters() {
    ui.search.value = '';
    setOptInOnly(false);
  }

  function setOptInOnly(on) {
    optInOnly = on;
    ui.filter.setAttribute('aria-pressed', String(on));
    applyFilter(true);
  }

  // ---- rendering of everything around the table -------------------------------------------------

  function renderCounts() {
    if (!loaded) {
      ui.count.textContent = '';
      ui.summaryText.replaceChildren();
      return;
    }
    optInCount.textContent = String(optIns);
    fillNodes(ui.summaryText, 'locks.optInSummary', { count: optInCount }, optIns);
    ui.count.textContent = tn('locks.count', locks.length, {
      shown: formatNumber(shownRows.length),
      total: formatNumber(locks.length),
    });
  }

  function renderEmpty() {
    const noLocks = loaded && locks.length === 0;
    const noMatch = loaded && locks.length > 0 && shownRows.length === 0;
    ui.table.hidden = noLocks;
    if (noLocks) {
      empty.show(ui.scroller, {
        title: t('locks.empty.none.title'),
        text: t('locks.empty.none.text', { partner: shell.session?.partnerId ?? '' }),
        withClear: false,
      });
    } else if (noMatch) {
      const q = query.trim();
      const key = !q ? 'locks.empty.noMatch.filter' : optInOnly ? 'locks.empty.noMatch.searchAndFilter' : 'locks.empty.noMatch.search';
      empty.show(ui.scroller, { title: t('locks.empty.noMatch.title'), text: t(key, { query: q }), withClear: true });
    } else {
      empty.hide();
    }
  }

  function renderStatus() {
    renderLoadState(ui, {
      loading, loaded, fetchedAt, loadError,
      loadingKey: 'locks.loading',
      refreshingKey: 'locks.refreshing',
      context: 'locks',
      onRetry: () => load(),
    });
  }

  async function load() {
    if (loading || destroyed) return;
    loading = true;
    renderStatus();
    if (!loaded) {
      let cached = null;
      try {
        cached = await cachedLocks();
      } catch (err) {
        console.warn('cached_locks failed', err);
      }
      if (destroyed) return;
      if (cached && Array.isArray(cached.locks)) setData(cached);
    }
    let page = null;
    let error = null;
    try {
      page = await listLocks();
    } catch (err) {
      error = err;
    }
    if (destroyed) return;
    loading = false;
    if (error) {
      if (shell.handleSignInError(error)) return;
      loadError = error;
      if (loaded) shell.setBanner({ source: 'locks', error, since: fetchedAt, context: 'locks', onRetry: () => load() });
      renderStatus();
      return;
    }
    loadError = null;
    shell.clearBanner('locks');
    setData(page);
  }

  function openLock(i) {
    const lock = locks[i];
    if (lock) shell.navigate('lock', { lock });
  }

  // ---- events -----------------------------------------------------------------------------------

  ui.refresh.addEventListener('click', () => load());
  ui.filter.addEventListener('click', () => setOptInOnly(!optInOnly));
  const cancelSearch = debounceSearch(ui.search, (value) => {
    if (value !== query) applyFilter(true);
  });
  ui.search.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && table.length) {
      e.preventDefault();
      table.focusPosition(0);
    } else if (e.key === 'Enter' && table.length === 1) {
      openLock(shownRows[0]);
    }
  });
  for (const button of ui.sortButtons) {
    button.addEventListener('click', () => {
      const key = button.dataset.sort;
      sort = { key, dir: sort.key === key ? -sort.dir : 1 };
      sortAll();
      applyFilter(false);
    });
  }

  return {
    el,
    title: () => t('locks.heading'),
    show({ focus, focusLockId } = {}) {
      if (savedScroll) ui.scroller.scrollTop = savedScroll;
      table.refresh();
      if (!loaded && !loading) load();
      if (focusLockId !== undefined) {
        const i = locks.findIndex((lock) => lock.id === focusLockId);
        if (i >= 0 && table.focusDataIndex(i)) return;
      }
      if (focus === 'search') ui.search.focus();
      else ui.heading.focus();
    },
    hide() {
      savedScroll = ui.scroller.scrollTop;
    },
    refresh: () => load(),
    /** Unloc said this lock is gone (404): take it off the list without asking Unloc again. */
    removeLock(lockId) {
      if (!loaded || !locks.some((lock) => lock.id === lockId)) return;
      setData({ locks: locks.filter((lock) => lock.id !== lockId), fetchedAt });
    },
    focusSearch() {
      ui.search.focus();
      ui.search.select();
    },
    onEscape(e) {
      if (e.target === ui.search && ui.search.value) {
        e.preventDefault();
        ui.search.value = '';
        applyFilter(true);
      }
    },
    applyLanguage() {
      if (loaded) {
        deriveTexts(); // country names are in the UI language
        sortAll(); // collation is per language
        applyFilter(false);
      }
      renderCounts();
      renderStatus();
    },
    destroy() {
      destroyed = true;
      cancelSearch();
      table.destroy();
    },
  };
}

function referenceOf(lock) {
  return typeof lock.data === 'string' ? lock.data.trim() : '';
}
