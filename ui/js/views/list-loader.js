// Loading for a list Unloc serves (locks, a lock's events) into a ListView: the saved copy first, then Unloc.

import { t, tn } from '../i18n.js';
import { renderError } from '../errors.js';
import { formatClock, formatDateTimeLong, formatNumber } from '../format.js';
import { firstStep } from '../timeline.js';

/**
 * Loading for a list Unloc serves (locks, events): the saved copy (cached_*) at once, also offline,
 * then Unloc's answer replaces it. With data on screen a failure goes to the shell's banner; without
 * any, to the view's error panel. Progress, the refresh button and "Last updated" follow.
 */
export class CachedThenLive {
  /**
   * @param {object} o
   * @param {object} o.shell
   * @param {ListView} o.list
   * @param {{view, refresh, progress, updated, error}} o.parts  elements
   * @param {() => Promise<object|null>} o.cached  the saved page (null: none)
   * @param {() => Promise<object>} o.live  Unloc's page
   * @param {(page: object) => any[]|undefined} o.rowsOf  the page's rows (the list's items)
   * @param {() => void} [o.onData]  after the list has a page's rows (e.g. a summary above it)
   * @param {string} o.source  banner source and error context ("locks", "events")
   * @param {string} o.loadingKey  progress text while nothing is shown yet
   * @param {string} o.refreshingKey  progress text while rows are on screen
   * @param {string} [o.skippedKey]  plural key for "N items could not be read" (the page's `skipped`)
   * @param {(error: object) => boolean} [o.onFailure]  handles an error itself (true) before the banner
   */
  constructor(o) {
    this.o = o;
    this.loading = false;
    this.error = null;
    this.fetchedAt = null;
    this.seq = 0;
    this.destroyed = false;
    this.skipped = 0; // items Unloc sent that could not be read (not shown; details in the log)
    if (o.skippedKey) {
      this.skippedNotice = document.createElement('p');
      this.skippedNotice.className = 'skipped-notice';
      this.skippedNotice.setAttribute('role', 'status');
      o.parts.updated.after(this.skippedNotice);
    }
  }

  destroy() {
    this.destroyed = true;
  }

  /** Forget the data's status (another lock): a late answer for the previous one is ignored. */
  reset() {
    this.seq += 1;
    this.loading = false;
    this.error = null;
    this.fetchedAt = null;
    this.skipped = 0;
  }

  accept(page) {
    this.fetchedAt = page?.fetchedAt ?? new Date().toISOString();
    this.skipped = Number.isFinite(page?.skipped) ? page.skipped : 0;
    const rows = this.o.rowsOf(page ?? {});
    firstStep(`${this.o.source}:set-items`, () => this.o.list.setItems(Array.isArray(rows) ? rows : []));
    firstStep(`${this.o.source}:summary`, () => this.o.onData?.());
    firstStep(`${this.o.source}:status`, () => this.render());
  }

  async load() {
    if (this.loading || this.destroyed) return;
    const seq = ++this.seq;
    const current = () => !this.destroyed && seq === this.seq;
    this.loading = true;
    this.render();
    if (!this.o.list.loaded) {
      const cached = await this.o.cached().catch((err) => console.warn(`cached ${this.o.source} failed`, err));
      if (!current()) return;
      if (Array.isArray(this.o.rowsOf(cached ?? {}))) this.accept(cached);
    }
    let page = null;
    let error = null;
    try {
      page = await this.o.live();
    } catch (err) {
      error = err;
    }
    if (!current()) return;
    this.loading = false;
    if (error) this.fail(error);
    else {
      this.error = null;
      this.o.shell.clearBanner(this.o.source);
      this.accept(page);
    }
  }

  fail(error) {
    const { shell, source } = this.o;
    if (shell.handleSignInError(error) || this.o.onFailure?.(error)) return;
    this.error = error;
    if (this.o.list.loaded) {
      shell.setBanner({ source, error, since: this.fetchedAt, context: source, onRetry: () => this.load() });
    }
    this.render();
  }

  /** Progress text, refresh button, "Last updated", and the error panel when there is no data to show. */
  render() {
    const { view, refresh, progress, updated, error } = this.o.parts;
    const loaded = this.o.list.loaded;
    view.classList.toggle('is-loading', this.loading && !loaded);
    view.classList.toggle('has-data', loaded);
    refresh.classList.toggle('is-busy', this.loading);
    // aria-disabled, not disabled: a focused button keeps its focus while it works.
    if (this.loading) refresh.setAttribute('aria-disabled', 'true');
    else refresh.removeAttribute('aria-disabled');
    progress.textContent = this.loading ? t(loaded ? this.o.refreshingKey : this.o.loadingKey) : '';
    if (this.fetchedAt) {
      updated.textContent = t('common.lastUpdated', { time: formatClock(this.fetchedAt) });
      updated.setAttribute('title', formatDateTimeLong(this.fetchedAt));
    } else {
      updated.textContent = '';
      updated.removeAttribute('title');
    }
    if (this.skippedNotice) {
      const n = this.skipped;
      this.skippedNotice.textContent = n > 0 ? tn(this.o.skippedKey, n, { count: formatNumber(n) }) : '';
    }
    if (this.error && !loaded) renderError(error, this.error, { context: this.o.source, onRetry: () => this.load() });
    else error.replaceChildren();
  }
}
