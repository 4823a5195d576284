// Every key the app knows (created here, seen in event histories, added by id): status filter,
// search, "check with Unloc now", add a key by its id. Virtualized like the locks list.

import { addKey, cachedLocks, refreshKeys } from '../ipc.js';
import { fromTemplate, t, tn } from '../i18n.js';
import { describeError, isConnectionProblem, renderError } from '../errors.js';
import { fold, formatClock, formatDateTimeLong, formatNumber, matchesAll, searchWords } from '../format.js';
import { VirtualTable } from '../virtual-table.js';
import { allKeys, allKeysLoaded, hasKey, mergeKeys, onKeys, reloadAllKeys } from '../key-store.js';
import {
  KEY_STATUSES, everyMinute, fillLockCell, fillRecipientCell, fillRouteCell, fillStatusCell, fillTimeCell, fillWindowCell,
  lockLabel, newestFirst, recipientInline, recipientText, statusOf,
} from './key-cells.js';
import { createEmptyState, debounceSearch } from './shared.js';

const ROW_HEIGHT = 44;

export function createKeysView(shell) {
  const el = fromTemplate('tpl-keys');
  const q = (sel) => el.querySelector(sel);
  const ui = {
    view: el,
    heading: q('#keys-heading'),
    progress: q('[data-ref="progress"]'),
    updated: q('[data-ref="updated"]'),
    refresh: q('#keys-refresh'),
    state: q('#keys-state'),
    search: q('#keys-search'),
    count: q('#keys-count'),
    error: q('[data-ref="error"]'),
    scroller: q('[data-ref="scroller"]'),
    table: q('table'),
    addForm: q('[data-ref="addForm"]'),
    addInput: q('#keys-add-id'),
    addButton: q('#keys-add'),
    addLabel: q('#keys-add .button-label'),
    addFieldError: q('#keys-add-error'),
    addStatus: q('[data-ref="addStatus"]'),
    addError: q('[data-ref="addError"]'),
  };
  const empty = createEmptyState('keys-empty', () => {
    clearFilters();
    ui.search.focus();
  });

  let keys = []; // every known key, newest first
  let haystacks = [];
  let shownRows = [];
  let locksById = new Map(); // cached locks, to open a key's lock
  let loaded = false;
  let loadError = null;
  let checking = false;
  let adding = false;
  let addNotice = null; // {key, params, tone}
  let addShown = null; // {error} | {key}
  let query = '';
  let state = 'all';
  let visible = false;
  let dirty = false;
  let stopTick = null;
  let destroyed = false;

  const table = new VirtualTable({
    scroller: ui.scroller,
    table: ui.table,
    rowHeight: ROW_HEIGHT,
    createRow,
    renderRow,
    onActivate: (i) => openLockOf(keys[i]),
  });

  function createRow() {
    const tr = document.createElement('tr');
    for (const cls of ['key-status', 'key-lock', 'key-recipient', 'key-window', 'key-route', 'key-checked']) {
      const td = document.createElement('td');
      td.className = cls;
      tr.append(td);
    }
    return tr;
  }

  function renderRow(tr, i) {
    const key = keys[i];
    const [status, lockCell, recipient, validity, route, checked] = tr.cells;
    const canOpen = locksById.has(key.lockId);
    tr.setAttribute('data-key-id', key.id);
    tr.classList.toggle('row-link', canOpen);
    fillStatusCell(status, key);
    fillLockCell(lockCell, key, canOpen);
    fillRecipientCell(recipient, key);
    fillWindowCell(validity, key);
    fillRouteCell(route, key);
    fillTimeCell(checked, key.lastChecked, 'keys.neverChecked', { short: true });
  }

  // ---- data -----------------------------------------------------------------------------------

  function rebuild() {
    dirty = false;
    keys = allKeys().sort(newestFirst);
    haystacks = keys.map((k) => {
      const msn = typeof k.msn === 'string' ? k.msn : '';
      const digits = msn.replace(/\D/g, '');
      const national = digits.startsWith('47') ? digits.slice(2) : '';
      return fold(`${k.lockName ?? ''}\n${recipientText(k)}\n${msn}\n${digits}\n${national}\n${k.route ?? ''}\n${k.id}`);
    });
    applyFilter(false);
    renderStatus();
  }

  function applyFilter(reset) {
    query = ui.search.value;
    const words = searchWords(query);
    const rows = [];
    for (let i = 0; i < keys.length; i++) {
      if (state !== 'all' && statusOf(keys[i]) !== state) continue;
      if (words.length && !matchesAll(haystacks[i], words)) continue;
      rows.push(i);
    }
    shownRows = rows;
    table.setRows(rows, { reset });
    renderCounts();
    renderEmpty();
  }

  function clearFilters() {
    state = 'all';
    ui.state.value = 'all';
    ui.search.value = '';
    applyFilter(true);
  }

  function renderCounts() {
    ui.count.textContent = loaded
      ? tn('keys.count', keys.length, { shown: formatNumber(shownRows.length), total: formatNumber(keys.length) })
      : '';
  }

  function renderEmpty() {
    const none = loaded && keys.length === 0;
    const noMatch = loaded && keys.length > 0 && shownRows.length === 0;
    ui.table.hidden = none;
    if (none) {
      empty.show(ui.scroller, {
        title: t('keys.empty.none.title'),
        text: t('keys.empty.none.text'),
        withClear: false,
        action: { label: t('keys.empty.none.action'), onClick: () => shell.navigate('locks', { focus: 'search' }) },
      });
    } else if (noMatch) {
      empty.show(ui.scroller, { title: t('keys.empty.noMatch.title'), text: t('keys.empty.noMatch.text'), withClear: true });
    } else {
      empty.hide();
    }
  }

  function newestCheck() {
    let best = null;
    let bestMs = -Infinity;
    for (const k of keys) {
      const ms = Date.parse(k.lastChecked ?? '');
      if (ms > bestMs) {
        bestMs = ms;
        best = k.lastChecked;
      }
    }
    return best;
  }

  function renderStatus() {
    el.classList.toggle('has-data', loaded);
    el.classList.toggle('is-loading', !loaded && !loadError);
    ui.refresh.classList.toggle('is-busy', checking);
    if (checking) ui.refresh.setAttribute('aria-disabled', 'true');
    else ui.refresh.removeAttribute('aria-disabled');
    ui.progress.textContent = checking ? t('keys.checking') : '';
    const last = newestCheck();
    if (last) {
      ui.updated.textContent = t('keys.lastChecked', { time: formatClock(last) });
      ui.updated.setAttribute('title', formatDateTimeLong(last));
    } else {
      ui.updated.textContent = '';
      ui.updated.removeAttribute('title');
    }
    if (loadError && !loaded) renderError(ui.error, loadError, { context: 'keys', onRetry: () => load() });
    else ui.error.replaceChildren();
  }

  async function loadLocks() {
    try {
      const page = await cachedLocks();
      locksById = new Map((page?.locks ?? []).map((lock) => [lock.id, lock]));
    } catch (err) {
      console.warn('cached_locks failed', err);
    }
    if (!destroyed) table.refresh();
  }

  async function load() {
    try {
      await reloadAllKeys();
      loadError = null;
    } catch (err) {
      if (destroyed || shell.handleSignInError(err)) return;
      loadError = err;
    }
    if (destroyed) return;
    loaded = allKeysLoaded() || loaded;
    rebuild();
  }

  /** refresh_keys(null): ask Unloc now about every key that can still change. */
  async function check() {
    if (checking || destroyed) return;
    checking = true;
    renderStatus();
    let error = null;
    try {
      mergeKeys(await refreshKeys(null));
    } catch (err) {
      error = err;
    }
    if (destroyed) return;
    checking = false;
    renderStatus();
    if (error) {
      if (shell.handleSignInError(error)) return;
      const since = newestCheck();
      shell.setBanner({
        source: 'keys',
        error,
        since: since && isConnectionProblem(error) ? since : undefined,
        context: 'keys',
        onRetry: () => check(),
      });
      return;
    }
    shell.clearBanner('keys');
  }

  function openLockOf(key) {
    const lock = key && locksById.get(key.lockId);
    if (lock) shell.navigate('lock', { lock, from: 'keys' });
  }

  const unsubscribe = onKeys(() => {
    if (visible) rebuild();
    else dirty = true;
  });

  // ---- add a key by id ------------------------------------------------------------------------

  function renderAdd() {
    ui.addButton.classList.toggle('is-busy', adding);
    ui.addButton.disabled = adding;
    ui.addLabel.textContent = t(adding ? 'keys.add.working' : 'keys.add.submit');
    ui.addStatus.className = `key-notice${addNotice ? ` tone-${addNotice.tone}` : ''}`;
    ui.addStatus.textContent = addNotice ? t(addNotice.key, addNotice.params) : '';
    const fieldKey = addShown?.field ?? null;
    if (fieldKey) ui.addInput.setAttribute('aria-invalid', 'true');
    else ui.addInput.removeAttribute('aria-invalid');
    ui.addInput.closest('.field')?.classList.toggle('has-error', Boolean(fieldKey));
    ui.addFieldError.textContent = fieldKey ? t(fieldKey) : '';
    if (addShown?.error) renderError(ui.addError, addShown.error, { context: 'addKey' });
    else ui.addError.replaceChildren();
  }

  ui.addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (adding) return;
    const id = ui.addInput.value.trim();
    addShown = null;
    if (!id) {
      addNotice = null;
      addShown = { field: 'keys.add.empty' };
      renderAdd();
      ui.addInput.focus();
      return;
    }
    const known = hasKey(id);
    adding = true;
    addNotice = { key: 'keys.add.progress', params: {}, tone: 'progress' };
    renderAdd();
    let key = null;
    let error = null;
    try {
      key = await addKey(id);
    } catch (err) {
      error = err;
    }
    if (destroyed) return;
    adding = false;
    if (error) {
      addNotice = null;
      if (shell.handleSignInError(error)) return;
      const info = describeError(error, 'addKey');
      addShown = { error, field: info.kind === 'invalidInput' || info.kind === 'notFound' ? 'keys.add.notAccepted' : null };
      renderAdd();
      ui.addInput.focus();
      return;
    }
    const [stored] = mergeKeys([key]);
    ui.addInput.value = '';
    const params = {
      recipient: stored ? recipientInline(stored) : '',
      lock: stored ? lockLabel(stored) : '',
      status: t(`keyStatus.${statusOf(stored)}`),
    };
    addNotice = { key: known ? 'keys.add.known' : 'keys.add.done', params, tone: 'success' };
    renderAdd();
    // Make sure the key can be seen: a filter that hides it goes.
    if (stored && visible) {
      rebuild();
      const i = keys.findIndex((k) => k.id === stored.id);
      if (i >= 0 && !shownRows.includes(i)) clearFilters();
    }
  });

  ui.addInput.addEventListener('input', () => {
    if (addShown?.field) {
      addShown = { ...addShown, field: null };
      renderAdd();
    }
  });

  // ---- the rest of the wiring -----------------------------------------------------------------

  for (const status of KEY_STATUSES) {
    const option = document.createElement('option');
    option.value = status;
    option.setAttribute('data-i18n', `keyStatus.${status}`);
    option.textContent = t(`keyStatus.${status}`);
    ui.state.append(option);
  }
  ui.state.addEventListener('change', () => {
    state = ui.state.value;
    applyFilter(true);
  });
  ui.refresh.addEventListener('click', () => check());
  const cancelSearch = debounceSearch(ui.search, (value) => {
    if (value !== query) applyFilter(true);
  });
  ui.search.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && table.length) {
      e.preventDefault();
      table.focusPosition(0);
    }
  });
  ui.table.tBodies[0].addEventListener('click', (e) => {
    const link = e.target instanceof Element ? e.target.closest('.lock-link') : null;
    if (!link) return;
    const id = link.closest('tr')?.getAttribute('data-key-id');
    openLockOf(keys.find((k) => k.id === id));
  });

  return {
    el,
    title: () => t('keys.heading'),
    show({ focusLockId } = {}) {
      visible = true;
      stopTick ??= everyMinute(() => table.refresh());
      loadLocks();
      loaded ||= allKeysLoaded();
      rebuild();
      load(); // the store is local: cheap, and it may know keys seen in histories since
      renderAdd();
      if (focusLockId !== undefined) {
        const i = keys.findIndex((k) => k.lockId === focusLockId);
        if (i >= 0 && table.focusDataIndex(i)) return;
      }
      ui.heading.focus();
    },
    hide() {
      visible = false;
      stopTick?.();
      stopTick = null;
    },
    refresh: () => check(),
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
      if (loaded) rebuild(); // recipient words are searched too
      renderCounts();
      renderEmpty();
      renderStatus();
      renderAdd();
    },
    destroy() {
      destroyed = true;
      unsubscribe();
      cancelSearch();
      stopTick?.();
      table.destroy();
    },
  };
}
