// One lock: its details (the grant in plain words), its keys (lock-keys.js) and its event history,
// newest first. A busy lock has 100,000 events: they are prepared once per load, the table is
// virtualized. The saved history (cached_events) shows at once, then Unloc is asked.

import { cachedEvents, listEvents } from '../ipc.js';
import { fromTemplate, t, tn } from '../i18n.js';
import {
  fold, formatAddress, formatDateTime, formatDateTimeLong, formatNumber, formatPhone, grantBadge, grantKind, matchesAll,
  searchWords,
} from '../format.js';
import { VirtualTable } from '../virtual-table.js';
import { createEmptyState, debounceSearch, renderLoadState } from './shared.js';
import { createLockKeys } from './lock-keys.js';

const ROW_HEIGHT = 40;
const KNOWN_ACTIONS = new Set(['locked', 'unlocked']);

export function createLockView(shell) {
  const el = fromTemplate('tpl-lock');
  const q = (sel) => el.querySelector(sel);
  const ui = {
    view: el,
    back: q('#lock-back'),
    title: q('#lock-title'),
    details: q('#lock-details'),
    progress: q('[data-ref="progress"]'),
    updated: q('[data-ref="updated"]'),
    refresh: q('[data-ref="refresh"]'),
    action: q('#events-action'),
    search: q('#events-search'),
    count: q('#events-count'),
    error: q('[data-ref="error"]'),
    scroller: q('[data-ref="scroller"]'),
    table: q('.events-table'),
    caption: q('[data-ref="caption"]'),
  };
  const keys = createLockKeys(shell, q('#lock-keys'));
  const empty = createEmptyState('events-empty', () => {
    clearFilters();
    ui.search.focus();
  });

  let lock = null;
  let from = 'locks'; // where "Back" goes: locks | keys | awaiting
  let events = [];
  let haystacks = []; // folded name + phone forms per event
  let newestFirst = []; // all event indices, newest first
  let shownRows = [];
  let fetchedAt = null;
  let loaded = false;
  let loading = false;
  let loadError = null;
  let requestSeq = 0;
  let destroyed = false;
  let query = '';
  let action = 'all';

  const table = new VirtualTable({
    scroller: ui.scroller,
    table: ui.table,
    rowHeight: ROW_HEIGHT,
    createRow,
    renderRow,
  });

  function createRow() {
    const tr = document.createElement('tr');
    for (const cls of ['event-time', 'event-action', 'event-who', 'event-phone']) {
      const td = document.createElement('td');
      td.className = cls;
      tr.append(td);
    }
    return tr;
  }

  function renderRow(tr, i) {
    const ev = events[i];
    const [when, what, who, phone] = tr.cells;
    tr.setAttribute('data-event-id', ev.id);
    when.textContent = formatDateTime(ev.created);
    when.setAttribute('title', formatDateTimeLong(ev.created));
    const known = KNOWN_ACTIONS.has(ev.action);
    what.textContent = known ? t(`events.action.${ev.action}`) : String(ev.action ?? '');
    what.dataset.action = known ? ev.action : 'unknown';
    who.textContent = ev.name ?? '';
    who.setAttribute('title', ev.name ?? '');
    const p = formatPhone(ev.msn);
    phone.textContent = p.text;
    phone.classList.toggle('is-missing', p.ownUse);
  }

  // ---- details ----------------------------------------------------------------------------------

  function renderDetails() {
    ui.title.textContent = lock.name || t('locks.unnamed');
    ui.caption.textContent = t('events.caption', { name: lock.name || t('locks.unnamed') });
    const id = document.createElement('code');
    id.textContent = lock.id;
    const address = formatAddress(lock);
    const reference = typeof lock.data === 'string' ? lock.data.trim() : '';
    const kind = grantKind(lock.auth);
    const grant = document.createElement('div');
    grant.className = 'grant';
    const explain = document.createElement('p');
    explain.className = 'grant-text';
    explain.textContent =
      kind === 'opt-in' ? t('lock.grant.optIn') : kind === 'opt-out' ? t('lock.grant.optOut') : t('lock.grant.unknown', { value: lock.auth ?? '' });
    grant.append(grantBadge(lock.auth), explain);

    const items = [
      ['lock.details.id', id, 'detail-id'],
      ['lock.details.address', address || missing(t('locks.noAddress')), 'detail-address'],
      ['lock.details.reference', reference || missing(t('common.none')), 'detail-reference'],
      ['lock.details.grant', grant, 'detail-grant'],
    ];
    ui.details.replaceChildren(
      ...items.map(([key, value, cls]) => {
        const div = document.createElement('div');
        div.className = cls;
        const dt = document.createElement('dt');
        dt.textContent = t(key);
        const dd = document.createElement('dd');
        dd.append(value);
        div.append(dt, dd);
        return div;
      }),
    );
  }

  function missing(text) {
    const span = document.createElement('span');
    span.className = 'is-missing';
    span.textContent = text;
    return span;
  }

  // ---- data -------------------------------------------------------------------------------------

  function reset() {
    requestSeq += 1; // a late answer for the previous lock is ignored
    events = [];
    haystacks = [];
    newestFirst = [];
    shownRows = [];
    fetchedAt = null;
    loaded = false;
    loading = false;
    loadError = null;
    action = 'all';
    ui.search.value = '';
    ui.action.value = 'all';
    table.setRows([], { reset: true });
  }

  function setData(page) {
    events = Array.isArray(page?.events) ? page.events : [];
    fetchedAt = page?.fetchedAt ?? new Date().toISOString();
    loaded = true;
    const n = events.length;
    const times = new Float64Array(n);
    haystacks = new Array(n);
    for (let i = 0; i < n; i++) {
      const ev = events[i];
      const ms = Date.parse(ev.created);
      times[i] = Number.isNaN(ms) ? -Infinity : ms;
      const msn = typeof ev.msn === 'string' ? ev.msn : '';
      const digits = msn.replace(/\D/g, '');
      haystacks[i] = `${fold(ev.name)}\n${msn}\n${digits}\n${digits.startsWith('47') ? digits.slice(2) : ''}`;
    }
    newestFirst = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
      const d = times[b] - times[a];
      return d > 0 ? 1 : d < 0 ? -1 : 0;
    });
    applyFilter(false);
    renderStatus();
  }

  function applyFilter(reset) {
    query = ui.search.value; // the box as it is now, even if its debounced update is still pending
    const words = searchWords(query);
    const rows = [];
    for (const i of newestFirst) {
      if (action !== 'all' && events[i].action !== action) continue;
      if (words.length && !matchesAll(haystacks[i], words)) continue;
      rows.push(i);
    }
    shownRows = rows;
    table.setRows(rows, { reset });
    renderCounts();
    renderEmpty();
  }

  function clearFilters() {
    action = 'all';
    ui.search.value = '';
    ui.action.value = 'all';
    applyFilter(true);
  }

  function renderCounts() {
    ui.count.textContent = loaded
      ? tn('events.count', events.length, { shown: formatNumber(shownRows.length), total: formatNumber(events.length) })
      : '';
  }

  function renderEmpty() {
    const none = loaded && events.length === 0;
    const noMatch = loaded && events.length > 0 && shownRows.length === 0;
    ui.table.hidden = none;
    if (none) {
      empty.show(ui.scroller, { title: t('events.empty.none.title'), text: t('events.empty.none.text'), withClear: false });
    } else if (noMatch) {
      empty.show(ui.scroller, { title: t('events.empty.noMatch.title'), text: t('events.empty.noMatch.text'), withClear: true });
    } else {
      empty.hide();
    }
  }

  function renderStatus() {
    renderLoadState(ui, {
      loading, loaded, fetchedAt, loadError,
      loadingKey: 'events.loading',
      refreshingKey: 'events.refreshing',
      context: 'events',
      onRetry: () => load(),
    });
  }

  async function load() {
    if (!lock || loading || destroyed) return;
    const seq = ++requestSeq;
    loading = true;
    renderStatus();
    if (!loaded) {
      // The saved history first, at once (also offline); Unloc's answer replaces it.
      let cached = null;
      try {
        cached = await cachedEvents(lock.id);
      } catch (err) {
        console.warn('cached_events failed', err);
      }
      if (destroyed || seq !== requestSeq) return;
      if (cached && Array.isArray(cached.events)) setData(cached);
    }
    let page = null;
    let error = null;
    try {
      page = await listEvents(lock.id);
    } catch (err) {
      error = err;
    }
    if (destroyed || seq !== requestSeq) return;
    loading = false;
    if (error) {
      if (shell.handleSignInError(error)) return;
      // 404: the owner no longer grants this lock (or it was removed). Off the list, with a notice.
      if (error?.kind === 'notFound') {
        shell.lockGone(lock, error);
        return;
      }
      loadError = error;
      if (loaded) shell.setBanner({ source: 'events', error, since: fetchedAt, context: 'events', onRetry: () => load() });
      renderStatus();
      return;
    }
    loadError = null;
    shell.clearBanner('events');
    setData(page);
  }

  function back() {
    if (from === 'keys' || from === 'awaiting') shell.navigate(from, lock ? { focusLockId: lock.id } : {});
    else shell.navigate('locks', lock ? { focusLockId: lock.id } : {});
  }

  function renderBack() {
    ui.back.textContent = t(from === 'keys' ? 'lock.backToKeys' : from === 'awaiting' ? 'lock.backToAwaiting' : 'lock.back');
  }

  // ---- events -----------------------------------------------------------------------------------

  ui.back.addEventListener('click', back);
  ui.refresh.addEventListener('click', () => load());
  ui.action.addEventListener('change', () => {
    action = ui.action.value;
    applyFilter(true);
  });
  const cancelSearch = debounceSearch(ui.search, (value) => {
    if (value !== query) applyFilter(true);
  });
  ui.search.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && table.length) {
      e.preventDefault();
      table.focusPosition(0);
    }
  });

  return {
    el,
    title: () => (lock ? lock.name || t('locks.unnamed') : t('locks.heading')),
    /** The nav section to mark: where the lock was opened from. */
    section: () => from,
    show({ lock: next, from: origin = 'locks' } = {}) {
      if (!next) {
        shell.navigate('locks');
        return;
      }
      const same = lock && lock.id === next.id;
      lock = next;
      from = origin;
      renderBack();
      if (!same) reset();
      renderDetails();
      renderStatus();
      table.refresh();
      keys.setLock(lock);
      keys.show();
      load(); // same lock again: show what we have and refresh it
      ui.title.focus();
    },
    hide() {
      keys.hide();
    },
    refresh: () => {
      load();
      keys.refresh();
    },
    focusSearch() {
      ui.search.focus();
      ui.search.select();
    },
    onEscape(e) {
      e.preventDefault();
      if (keys.onEscape(e)) return;
      if (e.target === ui.search && ui.search.value) {
        ui.search.value = '';
        applyFilter(true);
        return;
      }
      back();
    },
    applyLanguage() {
      if (!lock) return;
      renderBack();
      keys.applyLanguage();
      renderDetails();
      table.refresh();
      renderCounts();
      renderEmpty();
      renderStatus();
    },
    destroy() {
      destroyed = true;
      cancelSearch();
      keys.destroy();
      table.destroy();
    },
  };
}
