// What the two key lists across all locks (keys.js, awaiting.js) do alike: rows from the local key
// store (a ListView), kept current by keys-changed, "check with Unloc now" (refresh_keys), the lock
// cell that opens the lock, "Last checked", and the once-a-minute tick for times that move on.

import { cachedLocks, refreshKeys } from '../ipc.js';
import { fromTemplate, t } from '../i18n.js';
import { isConnectionProblem, renderError } from '../errors.js';
import { formatClock, formatDateTimeLong } from '../format.js';
import { allKeysLoaded, mergeKeys, onKeys, reloadAllKeys } from '../key-store.js';
import { onPeople } from '../people-store.js';
import { ListView } from './list-view.js';
import { everyMinute } from './key-cells.js';

export class KeyListView {
  /**
   * @param {object} shell
   * @param {object} o
   * @param {string} o.template  the <template> id in ui/index.html
   * @param {string} o.name  this view's name in navigate(): where the lock view's "Back" returns
   * @param {() => object[]} o.keys  the KeyViews to list, in display order
   * @param {boolean} o.bannerSince  a connection problem says since when the keys are not current
   * @param {(view: KeyListView) => object} o.list  the ListView options (without el and onOpen)
   */
  constructor(shell, o) {
    this.shell = shell;
    this.o = o;
    this.el = fromTemplate(o.template);
    const q = (sel) => this.el.querySelector(sel);
    this.heading = q('h1');
    this.parts = { refresh: q('.head-actions button'), progress: q('[data-ref="progress"]'), updated: q('[data-ref="updated"]'), error: q('[data-ref="error"]') };
    this.locksById = new Map(); // cached locks, to open a key's lock
    this.loaded = false;
    this.loadError = null;
    this.checking = false;
    this.visible = false;
    this.stopTick = null;
    this.destroyed = false;
    this.list = new ListView({ el: this.el, onOpen: (key) => this.openLockOf(key), ...o.list(this) });
    this.parts.refresh.addEventListener('click', () => this.check());
    // The lock cell's button carries no handler of its own (key-cells.js): it is handled here.
    this.list.table.tBodies[0].addEventListener('click', (e) => {
      const link = e.target instanceof Element ? e.target.closest('.lock-link') : null;
      if (!link) return;
      const id = link.closest('tr')?.getAttribute('data-key-id');
      this.openLockOf(this.list.items.find((k) => k.id === id));
    });
    // Keys and the names of their recipients (People) both change what the rows show and match.
    const stopKeys = onKeys(() => {
      if (this.visible) this.rebuild();
    });
    const stopPeople = onPeople(() => {
      if (this.visible) this.rebuild();
    });
    this.unsubscribe = () => (stopKeys(), stopPeople());
  }

  /** Mark a row (data-key-id; a link look when its lock can be opened). */
  markRow(tr, key) {
    tr.setAttribute('data-key-id', key.id);
    tr.classList.toggle('row-link', this.canOpen(key));
  }

  canOpen(key) {
    return this.locksById.has(key.lockId);
  }

  rebuild() {
    this.list.setItems(this.o.keys(), { loaded: this.loaded });
    this.renderStatus();
  }

  /** The newest "last checked with Unloc" among the keys listed. */
  newestCheck() {
    let best = null;
    let bestMs = -Infinity;
    for (const k of this.list.items) {
      const ms = Date.parse(k.lastChecked ?? '');
      if (ms > bestMs) {
        bestMs = ms;
        best = k.lastChecked;
      }
    }
    return best;
  }

  renderStatus() {
    const { refresh, progress, updated, error } = this.parts;
    this.el.classList.toggle('has-data', this.loaded);
    this.el.classList.toggle('is-loading', !this.loaded && !this.loadError);
    refresh.classList.toggle('is-busy', this.checking);
    if (this.checking) refresh.setAttribute('aria-disabled', 'true');
    else refresh.removeAttribute('aria-disabled');
    progress.textContent = this.checking ? t('keys.checking') : '';
    const last = updated && this.newestCheck();
    if (last) {
      updated.textContent = t('keys.lastChecked', { time: formatClock(last) });
      updated.setAttribute('title', formatDateTimeLong(last));
    } else if (updated) {
      updated.textContent = '';
      updated.removeAttribute('title');
    }
    if (this.loadError && !this.loaded) renderError(error, this.loadError, { context: 'keys', onRetry: () => this.load() });
    else error.replaceChildren();
  }

  async loadLocks() {
    try {
      const page = await cachedLocks();
      this.locksById = new Map((page?.locks ?? []).map((lock) => [lock.id, lock]));
    } catch (err) {
      console.warn('cached_locks failed', err);
    }
    if (!this.destroyed) this.list.virtual.refresh();
  }

  /** The local store (cheap): it may know keys seen in histories since. */
  async load() {
    try {
      await reloadAllKeys();
      this.loadError = null;
    } catch (err) {
      if (this.destroyed || this.shell.handleSignInError(err)) return;
      this.loadError = err;
    }
    if (this.destroyed) return;
    this.loaded = allKeysLoaded() || this.loaded;
    this.rebuild();
  }

  /** refresh_keys(null): ask Unloc now about every key that can still change. */
  async check() {
    if (this.checking || this.destroyed) return;
    this.checking = true;
    this.renderStatus();
    let error = null;
    try {
      mergeKeys(await refreshKeys(null));
    } catch (err) {
      error = err;
    }
    if (this.destroyed) return;
    this.checking = false;
    this.renderStatus();
    if (!error) {
      this.shell.clearBanner('keys');
      return;
    }
    if (this.shell.handleSignInError(error)) return;
    const since = this.o.bannerSince && isConnectionProblem(error) ? this.newestCheck() : null;
    this.shell.setBanner({ source: 'keys', error, since: since ?? undefined, context: 'keys', onRetry: () => this.check() });
    if (!this.o.bannerSince && !isConnectionProblem(error)) console.warn('refresh_keys failed', error);
  }

  openLockOf(key) {
    const lock = key && this.locksById.get(key.lockId);
    if (lock) this.shell.navigate('lock', { lock, from: this.o.name });
  }

  show({ focusLockId } = {}) {
    this.visible = true;
    // Once a minute the rows in view get their new times; nothing else is redrawn.
    this.stopTick ??= everyMinute(() => this.list.virtual.refresh());
    this.loadLocks();
    this.loaded ||= allKeysLoaded();
    this.rebuild();
    this.load();
    if (focusLockId !== undefined && this.list.focusWhere((k) => k.lockId === focusLockId)) return;
    this.heading.focus();
  }

  hide() {
    this.visible = false;
    this.stopTick?.();
    this.stopTick = null;
  }

  refresh() {
    this.check();
  }

  applyLanguage() {
    if (this.loaded) this.rebuild(); // recipient words are searched too
    this.list.refresh();
    this.renderStatus();
  }

  destroy() {
    this.destroyed = true;
    this.unsubscribe();
    this.stopTick?.();
    this.list.destroy();
  }
}
