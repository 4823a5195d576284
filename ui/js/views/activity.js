// Activity: every archived event of every lock, newest first, filtered by date range, lock or customer,
// person and action — the filtering is SQL in Rust; this view asks for the count and the rows in view
// (activity-rows.js). Above the list, how far the background sync of the archive is, with Pause.
// Markup: <template id="tpl-activity"> in ui/index.html (section #activity-view).

import * as ipc from '../ipc.js';
import { fromTemplate, intlLocales, t, tn } from '../i18n.js';
import { renderError } from '../errors.js';
import { formatClock, formatNumber } from '../format.js';
import { ActivityRows, WINDOW } from './activity-rows.js';
import { COLUMNS } from './activity-columns.js';
import { filterOf, isFiltered } from './activity-filter.js';
import { wireActivityExport } from './activity-export.js';
import { FilterQuery } from './filter-query.js';
import { createEmptyState } from './shared.js';

const TEMPLATE = 'tpl-activity';
const ROW_HEIGHT = 40;
// How often the sync's progress is asked for while the view is shown.
const POLL_RUNNING_MS = 1000;
const POLL_IDLE_MS = 5000;

export function createActivityView(shell) {
  return new ActivityView(shell);
}

class ActivityView {
  constructor(shell) {
    this.shell = shell;
    this.el = fromTemplate(TEMPLATE);
    wireActivityExport(this);
    const q = (sel) => this.el.querySelector(sel);
    this.ui = {
      heading: q('#activity-heading'),
      range: q('#activity-range'),
      between: q('[data-ref="between"]'),
      from: q('#activity-from'),
      to: q('#activity-to'),
      lock: q('#activity-lock'),
      person: q('#activity-person'),
      action: q('#activity-action'),
      count: q('#activity-count'),
      error: q('[data-ref="error"]'),
      sync: q('#activity-sync'),
      pause: q('#activity-sync-pause'),
      scroller: q('[data-ref="scroller"]'),
    };
    this.status = null; // the sync's last SyncStatus
    this.shownChanges = null; // its `changes` when the rows were last asked for
    this.result = null; // {total, archived, filtered} of the last count
    this.pollTimer = 0;
    this.visible = false;
    this.rows = new ActivityRows({
      scroller: this.ui.scroller,
      rowHeight: ROW_HEIGHT,
      columns: COLUMNS,
      fetch: (filter, offset, limit) => ipc.activityPage(filter ?? {}, offset, limit, false),
      onOpen: (row) => openLock(shell, row),
      onError: (error) => this.showError(error),
    });
    this.empty = createEmptyState('activity-empty', () => this.clearFilters());
    this.filters = new FilterQuery({
      typed: [this.ui.lock, this.ui.person, this.ui.from, this.ui.to],
      values: () => this.values(),
      parse: (values) => this.parse(values),
      ask: (filter) => ipc.activityPage(filter, 0, WINDOW, true),
      show: (answer, options) => this.showAnswer(answer, options),
      failed: (error) => this.showError(error),
    });
    this.wire();
  }

  wire() {
    const ui = this.ui;
    ui.pause.addEventListener('click', () => this.togglePause());
    this.el.querySelector('#activity-visits').addEventListener('click', () => this.shell.navigate('visits'));
    ui.range.addEventListener('change', () => {
      this.renderRange();
      if (ui.range.value !== 'between') this.query({ reset: true });
      else ui.from.focus();
    });
    ui.action.addEventListener('change', () => this.query({ reset: true }));
    for (const input of [ui.lock, ui.person]) {
      input.addEventListener('keydown', (e) => {
        if (e.key === 'ArrowDown' && this.rows.total) {
          e.preventDefault();
          this.rows.focusFirst();
        }
      });
    }
  }

  values() {
    const ui = this.ui;
    return { range: ui.range.value, from: ui.from.value, to: ui.to.value, lock: ui.lock.value, person: ui.person.value, action: ui.action.value };
  }


  showError(error) {
    if (this.shell.handleSignInError(error)) return;
    renderError(this.ui.error, error, { context: 'activity' });
  }

  /** Count and first window for the filter as the controls say; reset scrolls to the top. */
  query({ reset }) {
    return this.filters.query({ reset });
  }

  /** The controls' filter; a day that cannot be read is marked, and said where the count stands. */
  parse(values) {
    const ui = this.ui;
    const parsed = filterOf(values, intlLocales());
    ui.from.toggleAttribute('aria-invalid', parsed.error === 'from');
    ui.to.toggleAttribute('aria-invalid', parsed.error === 'to');
    if (parsed.error) ui.count.textContent = t('activity.badDay');
    return parsed;
  }

  showAnswer({ filter, page }, { reset }) {
    this.ui.error.replaceChildren();
    this.result = { total: page.total ?? 0, archived: page.archived ?? 0, filtered: isFiltered(filter) };
    this.rows.setResult(filter, this.result.total, page.rows ?? [], { reset });
    this.renderCount();
  }

  /** "18 of 1,170 events": how many rows the shown filter found. */
  countText() {
    if (!this.result) return '';
    const { total, archived, filtered } = this.result;
    return filtered
      ? tn('activity.countOf', archived, { shown: formatNumber(total), total: formatNumber(archived) })
      : tn('activity.count', total, { total: formatNumber(total) });
  }

  renderCount() {
    const { count, scroller } = this.ui;
    count.textContent = this.countText();
    if (!this.result) return;
    const { total, archived } = this.result;
    if (total > 0) this.empty.hide();
    else if (archived === 0) this.empty.show(scroller, { title: t('activity.empty.none.title'), text: t('activity.empty.none.text') });
    else this.empty.show(scroller, { title: t('activity.empty.noMatch.title'), text: t('activity.empty.noMatch.text'), withClear: true });
  }

  clearFilters() {
    const ui = this.ui;
    ui.range.value = 'all';
    for (const input of [ui.from, ui.to, ui.lock, ui.person]) input.value = '';
    ui.action.value = 'all';
    this.renderRange();
    this.query({ reset: true });
    ui.range.focus();
  }

  renderRange() {
    this.ui.between.hidden = this.ui.range.value !== 'between';
  }

  renderSync() {
    const s = this.status;
    const { sync, pause } = this.ui;
    const progress = s ? { done: formatNumber(s.locksDone), total: formatNumber(s.locksTotal) } : null;
    let text = '';
    if (s?.state === 'running') text = tn('activity.sync.running', s.locksTotal, progress);
    else if (s?.state === 'paused') text = tn('activity.sync.paused', s.locksTotal, progress);
    else if (s?.state === 'retrying') text = t('activity.sync.retrying');
    else if (s?.state === 'stopped') text = t('activity.sync.stopped');
    else if (s?.state === 'waiting' && s.lastFinished) text = t('activity.sync.upToDate', { time: formatClock(s.lastFinished) });
    else if (s?.state === 'waiting') text = t('activity.sync.starting');
    sync.textContent = text;
    pause.hidden = !(s && ['running', 'waiting', 'retrying', 'paused'].includes(s.state));
    pause.textContent = s?.state === 'paused' ? t('activity.sync.resume') : t('activity.sync.pause');
    pause.setAttribute('aria-pressed', String(s?.state === 'paused'));
  }

  async togglePause() {
    try {
      this.status = await ipc.setActivitySyncPaused(this.status?.state !== 'paused');
      this.renderSync();
    } catch (error) {
      this.showError(error);
    }
  }

  /** The sync's progress; when the archive changed, the count and the rows in view again. */
  async poll(ask = false) {
    clearTimeout(this.pollTimer);
    this.pollTimer = 0;
    try {
      this.status = await ipc.activitySyncStatus(ask);
      this.renderSync();
      if (this.shownChanges !== null && this.status.changes !== this.shownChanges) this.query({ reset: false });
      this.shownChanges = this.status.changes;
    } catch (error) {
      if (this.shell.handleSignInError(error)) return;
    }
    if (!this.visible) return;
    this.pollTimer = setTimeout(() => this.poll(), this.status?.state === 'running' ? POLL_RUNNING_MS : POLL_IDLE_MS);
  }

  title() {
    return t('activity.heading');
  }

  show() {
    this.visible = true;
    this.renderRange();
    this.query({ reset: false });
    // Someone looks at the activity: the sync need not wait for its start delay.
    this.poll(true);
    this.ui.heading.focus();
  }

  hide() {
    this.visible = false;
    clearTimeout(this.pollTimer);
  }

  refresh() {
    this.query({ reset: false });
    this.poll();
  }

  focusSearch() {
    this.ui.lock.focus();
    this.ui.lock.select();
  }

  onEscape(e) {
    if (e.target instanceof HTMLInputElement && e.target.value) {
      e.preventDefault();
      e.target.value = '';
      this.query({ reset: true });
    }
  }

  applyLanguage() {
    this.renderSync();
    this.renderCount();
    this.rows.refresh();
  }

  destroy() {
    this.visible = false;
    clearTimeout(this.pollTimer);
    this.filters.destroy();
    this.rows.destroy();
  }
}

/** Open the row's lock at this event (the saved lock list has its details; a lock no longer granted opens from the row). */
async function openLock(shell, row) {
  let lock = null;
  try {
    lock = (await ipc.cachedLocks())?.locks?.find((candidate) => candidate.id === row.lockId) ?? null;
  } catch {
    lock = null;
  }
  lock ??= { id: row.lockId, name: row.lockName, auth: '', data: row.lockReference || null, street: row.lockAddress || null, postalCode: null, city: null, countryIso: null };
  shell.navigate('lock', { lock, from: 'activity', eventId: row.id });
}
