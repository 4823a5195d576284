// Keys awaiting the lock owner's approval (opt-in locks), longest waiting first, with a waiting
// time that moves on by itself. Only the owner can approve, in the Unloc app; this list shows who
// to remind.

import { cachedLocks, refreshKeys } from '../ipc.js';
import { fromTemplate, t, tn } from '../i18n.js';
import { isConnectionProblem, renderError } from '../errors.js';
import { formatDateTimeLong, formatDuration, formatNumber } from '../format.js';
import { VirtualTable } from '../virtual-table.js';
import { allKeysLoaded, awaitingKeys, mergeKeys, onKeys, reloadAllKeys } from '../key-store.js';
import {
  everyMinute, fillLockCell, fillRecipientCell, fillTimeCell, oldestWaitingFirst, waitedMs, waitingSince,
} from './key-cells.js';
import { createEmptyState } from './shared.js';

const ROW_HEIGHT = 44;

export function createAwaitingView(shell) {
  const el = fromTemplate('tpl-awaiting');
  const q = (sel) => el.querySelector(sel);
  const ui = {
    heading: q('#awaiting-heading'),
    progress: q('[data-ref="progress"]'),
    refresh: q('[data-ref="refresh"]'),
    count: q('[data-ref="count"]'),
    error: q('[data-ref="error"]'),
    scroller: q('[data-ref="scroller"]'),
    table: q('table'),
  };
  const empty = createEmptyState('awaiting-empty', () => {});

  let keys = [];
  let locksById = new Map();
  let loaded = false;
  let loadError = null;
  let checking = false;
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
    for (const cls of ['key-lock', 'key-recipient', 'key-waiting', 'key-created']) {
      const td = document.createElement('td');
      td.className = cls;
      tr.append(td);
    }
    return tr;
  }

  function renderRow(tr, i) {
    const key = keys[i];
    const [lockCell, recipient, waiting, created] = tr.cells;
    const canOpen = locksById.has(key.lockId);
    tr.setAttribute('data-key-id', key.id);
    tr.classList.toggle('row-link', canOpen);
    fillLockCell(lockCell, key, canOpen);
    fillRecipientCell(recipient, key);
    waiting.textContent = formatDuration(waitedMs(key));
    const since = waitingSince(key);
    if (since) waiting.setAttribute('title', t('keys.waitingSinceTitle', { time: formatDateTimeLong(since) }));
    else waiting.removeAttribute('title');
    fillTimeCell(created, key.createdAt, 'awaiting.createdElsewhere');
  }

  function rebuild() {
    dirty = false;
    keys = awaitingKeys().sort(oldestWaitingFirst);
    table.setRows(keys.map((_, i) => i));
    render();
  }

  function render() {
    el.classList.toggle('has-data', loaded);
    el.classList.toggle('is-loading', !loaded && !loadError);
    ui.refresh.classList.toggle('is-busy', checking);
    if (checking) ui.refresh.setAttribute('aria-disabled', 'true');
    else ui.refresh.removeAttribute('aria-disabled');
    ui.progress.textContent = checking ? t('keys.checking') : '';
    ui.count.textContent = loaded && keys.length ? tn('awaiting.count', keys.length, { count: formatNumber(keys.length) }) : '';
    const none = loaded && keys.length === 0;
    ui.table.hidden = none;
    if (none) {
      empty.show(ui.scroller, { title: t('awaiting.empty.title'), text: t('awaiting.empty.text'), withClear: false });
    } else {
      empty.hide();
    }
    if (loadError && !loaded) renderError(ui.error, loadError, { context: 'keys', onRetry: () => load() });
    else ui.error.replaceChildren();
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

  async function loadLocks() {
    try {
      const page = await cachedLocks();
      locksById = new Map((page?.locks ?? []).map((lock) => [lock.id, lock]));
    } catch (err) {
      console.warn('cached_locks failed', err);
    }
    if (!destroyed) table.refresh();
  }

  async function check() {
    if (checking || destroyed) return;
    checking = true;
    render();
    let error = null;
    try {
      mergeKeys(await refreshKeys(null));
    } catch (err) {
      error = err;
    }
    if (destroyed) return;
    checking = false;
    render();
    if (error) {
      if (shell.handleSignInError(error)) return;
      shell.setBanner({ source: 'keys', error, context: 'keys', onRetry: () => check() });
      if (!isConnectionProblem(error)) console.warn('refresh_keys failed', error);
      return;
    }
    shell.clearBanner('keys');
  }

  function openLockOf(key) {
    const lock = key && locksById.get(key.lockId);
    if (lock) shell.navigate('lock', { lock, from: 'awaiting' });
  }

  const unsubscribe = onKeys(() => {
    if (visible) rebuild();
    else dirty = true;
  });

  ui.refresh.addEventListener('click', () => check());
  ui.table.tBodies[0].addEventListener('click', (e) => {
    const link = e.target instanceof Element ? e.target.closest('.lock-link') : null;
    if (!link) return;
    const id = link.closest('tr')?.getAttribute('data-key-id');
    openLockOf(keys.find((k) => k.id === id));
  });

  return {
    el,
    title: () => t('awaiting.heading'),
    show({ focusLockId } = {}) {
      visible = true;
      // Once a minute the rows in view get their new waiting time; nothing else is redrawn.
      stopTick ??= everyMinute(() => table.refresh());
      loadLocks();
      loaded ||= allKeysLoaded();
      rebuild();
      load();
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
    applyLanguage() {
      table.refresh();
      render();
    },
    destroy() {
      destroyed = true;
      unsubscribe();
      stopTick?.();
      table.destroy();
    },
  };
}
