// One lock: its details (the grant in plain words), its keys (lock-keys.js) and its event history,
// newest first. A busy lock has 100,000 events: they are prepared once per load, the table is
// virtualized. The saved history (cached_events) shows at once, then Unloc is asked.
// Markup: <template id="tpl-lock"> in ui/index.html (section #lock-view; the keys part is #lock-keys).

import { cachedEvents, listEvents } from '../ipc.js';
import { fromTemplate, t, tn } from '../i18n.js';
import {
  fold, formatAddress, formatNumber, grantBadge, grantKind,
} from '../format.js';
import { personFor, onPeople } from '../people-store.js';
import { ListView } from './list-view.js';
import { CachedThenLive } from './list-loader.js';
import { createLockKeys } from './lock-keys.js';
import { wireLockExport } from './lock-export.js';
import { fillActionCell, fillEventPhoneCell, fillTimeCell } from './event-cells.js';

const TEMPLATE = 'tpl-lock';
const ROW_HEIGHT = 40;
const BACK_LABEL = {
  keys: 'lock.backToKeys', awaiting: 'lock.backToAwaiting', person: 'lock.backToPerson', activity: 'lock.backToActivity', locks: 'lock.back',
};

export function createLockView(shell) {
  return new LockView(shell);
}

class LockView {
  constructor(shell) {
    this.shell = shell;
    this.el = fromTemplate(TEMPLATE);
    const q = (sel) => this.el.querySelector(sel);
    this.back = q('#lock-back');
    this.titleEl = q('#lock-title');
    this.details = q('#lock-details');
    this.action = q('#events-action');
    this.caption = q('[data-ref="caption"]');
    this.keys = createLockKeys(shell, q('#lock-keys'));
    this.lock = null;
    this.from = 'locks'; // where "Back" goes: locks | keys | awaiting | person | activity
    this.targetEventId = null; // opened from Activity at this event: it is marked and focused
    this.shownAction = 'all'; // the #events-action filter, read once per filtering, not per event
    this.list = new ListView({
      el: this.el,
      rowHeight: ROW_HEIGHT,
      columns: EVENT_COLUMNS,
      row: (tr, ev) => {
        tr.setAttribute('data-event-id', ev.id);
        tr.classList.toggle('is-target', ev.id === this.targetEventId);
      },
      searchText: eventSearchText,
      order: newestFirst,
      filter: (ev) => this.shownAction === 'all' || ev.action === this.shownAction,
      search: q('#events-search'),
      count: {
        el: q('#events-count'),
        // The note by the Export buttons follows the count: it says when they give fewer than all.
        text: (shown, total) => (this.exporter?.showScope(shown, total), countText(shown, total)),
      },
      empty: {
        id: 'events-empty',
        none: () => ({ title: t('events.empty.none.title'), text: t('events.empty.none.text') }),
        noMatch: () => ({ title: t('events.empty.noMatch.title'), text: t('events.empty.noMatch.text') }),
        onClear: () => this.setAction('all'),
      },
    });
    this.loader = new CachedThenLive({
      shell,
      list: this.list,
      parts: { view: this.el, refresh: q('[data-ref="refresh"]'), progress: q('[data-ref="progress"]'), updated: q('[data-ref="updated"]'), error: q('[data-ref="error"]') },
      cached: () => cachedEvents(this.lock.id),
      // A fresh history may name keys not known before: they are shown from it (no request to Unloc).
      live: () => listEvents(this.lock.id).then((page) => (this.keys.historyLoaded(), page)),
      rowsOf: (page) => (this.focusTargetSoon(), page.events),
      source: 'events',
      loadingKey: 'events.loading',
      refreshingKey: 'events.refreshing',
      skippedKey: 'events.skipped',
      onFailure: (error) => this.onFailure(error),
    });
    // A name added or changed in People shows here at once (and is found by the search).
    this.stopPeople = onPeople(() => {
      if (this.list.loaded) this.list.setItems(this.list.items);
    });
    this.exporter = wireLockExport(this);
    this.back.addEventListener('click', () => this.goBack());
    q('[data-ref="refresh"]').addEventListener('click', () => this.load());
    this.action.addEventListener('change', () => {
      this.shownAction = this.action.value;
      this.list.applyFilter(true);
    });
  }

  /** After the rows were set: the event Activity opened the lock at, in view and focused. */
  focusTargetSoon() {
    if (!this.targetEventId) return;
    requestAnimationFrame(() => this.list.focusWhere((ev) => ev.id === this.targetEventId));
  }

  setAction(value) {
    this.shownAction = value;
    this.action.value = value;
  }

  load() {
    if (this.lock) this.loader.load();
  }

  /** 404: the owner no longer grants this lock (or it was removed). Off the list, with a notice. */
  onFailure(error) {
    if (error?.kind !== 'notFound') return false;
    this.shell.lockGone(this.lock, error);
    return true;
  }

  /** Another lock: no events, filters back to "all". */
  reset() {
    this.loader.reset();
    this.exporter.clear();
    this.list.search.value = '';
    this.setAction('all');
    this.list.clear();
  }

  renderDetails() {
    const lock = this.lock;
    this.titleEl.textContent = lock.name || t('locks.unnamed');
    this.caption.textContent = t('events.caption', { name: lock.name || t('locks.unnamed') });
    const id = document.createElement('code');
    id.textContent = lock.id;
    const address = formatAddress(lock);
    const reference = typeof lock.data === 'string' ? lock.data.trim() : '';
    const items = [
      ['lock.details.id', id, 'detail-id'],
      ['lock.details.address', address || missing(t('locks.noAddress')), 'detail-address'],
      ['lock.details.reference', reference || missing(t('common.none')), 'detail-reference'],
      ['lock.details.grant', grantDetail(lock.auth), 'detail-grant'],
    ];
    this.details.replaceChildren(
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

  goBack() {
    const target = ['keys', 'awaiting', 'person', 'activity'].includes(this.from) ? this.from : 'locks';
    this.shell.navigate(target, this.lock ? { focusLockId: this.lock.id } : {});
  }

  renderBack() {
    this.back.textContent = t(BACK_LABEL[this.from] ?? BACK_LABEL.locks);
  }

  title() {
    return this.lock ? this.lock.name || t('locks.unnamed') : t('locks.heading');
  }

  show({ lock: next, from = 'locks', eventId = null } = {}) {
    if (!next) {
      this.shell.navigate('locks');
      return;
    }
    const same = this.lock && this.lock.id === next.id;
    this.lock = next;
    this.from = from;
    this.targetEventId = eventId;
    this.renderBack();
    if (!same) this.reset();
    this.renderDetails();
    this.loader.render();
    this.list.virtual.refresh();
    this.keys.setLock(next);
    this.keys.show();
    this.load(); // same lock again: show what we have and refresh it
    this.titleEl.focus();
  }

  hide() {
    this.keys.hide();
  }

  refresh() {
    this.load();
    this.keys.refresh();
  }

  focusSearch() {
    this.list.focusSearch();
  }

  onEscape(e) {
    e.preventDefault();
    if (this.keys.onEscape(e) || this.list.clearSearchOnEscape(e)) return;
    this.goBack();
  }

  applyLanguage() {
    if (!this.lock) return;
    this.renderBack();
    this.keys.applyLanguage();
    this.renderDetails();
    this.list.refresh();
    this.loader.render();
  }

  destroy() {
    this.stopPeople();
    this.loader.destroy();
    this.keys.destroy();
    this.list.destroy();
  }
}

const EVENT_COLUMNS = [
  { cell: 'event-time', fill: (td, ev) => fillTimeCell(td, ev.created) },
  { cell: 'event-action', fill: (td, ev) => fillActionCell(td, ev.action) },
  {
    cell: 'event-who',
    fill: (td, ev) => {
      // The office's own name for the number first; Unloc's name stays in the tooltip.
      const person = personFor(ev.msn);
      td.textContent = person ? person.name : (ev.name ?? '');
      td.setAttribute('title', ev.name ?? '');
      if (person) td.setAttribute('data-person-id', String(person.id));
      else td.removeAttribute('data-person-id');
    },
  },
  { cell: 'event-phone', fill: (td, ev) => fillEventPhoneCell(td, ev.msn) },
];

/** The person's name and the phone number in the forms people type (+47…, 47…, the 8 digits). */
function eventSearchText(ev) {
  const msn = typeof ev.msn === 'string' ? ev.msn : '';
  const digits = msn.replace(/\D/g, '');
  return `${fold(ev.name)}\n${fold(personFor(msn)?.name ?? '')}\n${msn}\n${digits}\n${digits.startsWith('47') ? digits.slice(2) : ''}`;
}

function newestFirst(events) {
  const times = events.map((ev) => {
    const ms = Date.parse(ev.created);
    return Number.isNaN(ms) ? -Infinity : ms;
  });
  return Array.from(times, (_, i) => i).sort((a, b) => {
    const d = times[b] - times[a];
    return d > 0 ? 1 : d < 0 ? -1 : 0;
  });
}

function countText(shown, total) {
  return tn('events.count', total, { shown: formatNumber(shown), total: formatNumber(total) });
}

function grantDetail(auth) {
  const kind = grantKind(auth);
  const grant = document.createElement('div');
  grant.className = 'grant';
  const explain = document.createElement('p');
  explain.className = 'grant-text';
  explain.textContent =
    kind === 'opt-in' ? t('lock.grant.optIn') : kind === 'opt-out' ? t('lock.grant.optOut') : auth ? t('lock.grant.unknown', { value: String(auth) }) : t('lock.grant.unstated');
  grant.append(grantBadge(auth), explain);
  return grant;
}

function missing(text) {
  const span = document.createElement('span');
  span.className = 'is-missing';
  span.textContent = text;
  return span;
}
