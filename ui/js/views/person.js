// One person: name, number, team or note (edit, remove), every key known for the number, the latest
// events in the saved histories, and "Revoke all keys of this person" — asked first with each key
// listed, then each key's result (revoked, already revoked, failed and why). person-revoke.js does
// the asking and the report.
// Markup: <template id="tpl-person"> in ui/index.html (section #person-view).

import { cachedLocks, deletePerson, personPage } from '../ipc.js';
import { fromTemplate, t, tn } from '../i18n.js';
import { renderError } from '../errors.js';
import { confirmAction } from '../confirm.js';
import { formatNumber, formatPhone } from '../format.js';
import { allKeys, mergeKeys, onKeys } from '../key-store.js';
import { forgetPerson, onPeople, personById } from '../people-store.js';
import { fillLockCell, fillStatusCell, fillWindowCell, newestFirst } from './key-cells.js';
import { ListView } from './list-view.js';
import { PersonForm } from './person-form.js';
import { PersonRevoke } from './person-revoke.js';
import { fillActionCell, fillTimeCell } from './event-cells.js';

const TEMPLATE = 'tpl-person';
const ROW_HEIGHT = 44;

export function createPersonView(shell) {
  return new PersonView(shell);
}

class PersonView {
  constructor(shell) {
    this.shell = shell;
    this.el = fromTemplate(TEMPLATE);
    const q = (sel) => this.el.querySelector(sel);
    this.titleEl = q('#person-title');
    this.details = q('#person-details');
    this.error = q('[data-ref="error"]');
    this.person = null;
    this.events = [];
    this.keysList = new ListView({
      el: q('#person-keys'),
      rowHeight: ROW_HEIGHT,
      columns: [
        { cell: 'key-status', fill: (td, key) => fillStatusCell(td, key) },
        { cell: 'key-lock', fill: (td, key) => fillLockCell(td, key, true) },
        { cell: 'key-window', fill: fillWindowCell },
      ],
      row: (tr, key) => tr.setAttribute('data-key-id', key.id),
      rowClass: 'row-link',
      order: (keys) => keys.map((_, i) => i).sort((a, b) => newestFirst(keys[a], keys[b])),
      count: { el: q('[data-ref="keysCount"]'), text: (shown) => tn('person.keys.count', shown, { count: formatNumber(shown) }) },
      empty: { id: 'person-keys-empty', none: () => ({ title: t('person.keys.empty.title'), text: t('person.keys.empty.text') }) },
      onOpen: (key) => this.openLock(key.lockId, key.lockName),
    });
    this.eventsList = new ListView({
      el: q('#person-events'),
      rowHeight: 40,
      columns: EVENT_COLUMNS,
      row: (tr, row) => tr.setAttribute('data-event-id', row.id),
      rowClass: 'row-link',
      count: { el: q('[data-ref="eventsCount"]'), text: (shown) => tn('person.events.count', shown, { count: formatNumber(shown) }) },
      empty: { id: 'person-events-empty', none: () => ({ title: t('person.events.empty.title'), text: t('person.events.empty.text') }) },
      onOpen: (row) => this.openLock(row.lockId, row.lockName),
    });
    this.form = new PersonForm(shell, q('[data-ref="personForm"]'), (person) => this.showPerson(person));
    this.revoker = new PersonRevoke(shell, q('[data-ref="revokePanel"]'), { keys: () => this.keys(), name: () => this.person?.name ?? '' });
    q('#person-back').addEventListener('click', () => shell.navigate('people', { focus: 'search' }));
    q('#person-edit').addEventListener('click', () => this.form.open(this.person));
    q('#person-delete').addEventListener('click', () => this.remove());
    const stopKeys = onKeys(() => this.renderKeys());
    const stopPeople = onPeople(() => {
      const now = this.person && personById(this.person.id);
      if (now) this.showPerson(now, { reload: false });
    });
    this.unsubscribe = () => (stopKeys(), stopPeople());
  }

  /** Every key known for this person's number (the key store stays current with keys-changed). */
  keys() {
    return this.person ? allKeys().filter((key) => key.msn === this.person.phone) : [];
  }

  /** The lock as the locks list knows it (its grant and address), else by what the key or event says. */
  async openLock(lockId, lockName) {
    let lock = null;
    try {
      lock = (await cachedLocks())?.locks?.find((l) => l.id === lockId) ?? null;
    } catch {
      // The saved list is only a nicety here: the lock view asks Unloc anyway.
    }
    this.shell.navigate('lock', { lock: lock ?? { id: lockId, name: lockName ?? '', auth: '' }, from: 'person' });
  }

  async load() {
    const id = this.person.id;
    try {
      const page = await personPage(id);
      if (this.person?.id !== id) return;
      mergeKeys(page.keys);
      this.events = page.events;
      this.error.replaceChildren();
    } catch (err) {
      if (this.shell.handleSignInError(err)) return;
      renderError(this.error, err, { context: 'person' });
    }
    this.renderKeys();
    this.eventsList.setItems(this.events);
  }

  showPerson(person, { reload = true } = {}) {
    const other = this.person?.id !== person.id;
    this.person = person;
    if (other) {
      this.events = [];
      this.eventsList.clear();
      this.revoker.reset();
    }
    this.renderDetails();
    this.renderKeys();
    if (reload) this.load();
  }

  renderDetails() {
    const { person } = this;
    this.titleEl.textContent = person.name;
    const rows = [
      ['person.details.phone', formatPhone(person.phone).text, 'detail-phone'],
      ['person.details.note', person.note ?? t('common.none'), 'detail-note'],
    ];
    this.details.replaceChildren(
      ...rows.map(([key, value, cls]) => {
        const div = document.createElement('div');
        div.className = cls;
        const dt = document.createElement('dt');
        dt.textContent = t(key);
        const dd = document.createElement('dd');
        dd.textContent = value;
        div.append(dt, dd);
        return div;
      }),
    );
  }

  renderKeys() {
    if (!this.person) return;
    this.keysList.setItems(this.keys());
    this.revoker.render();
  }

  async remove() {
    const { person } = this;
    const yes = await confirmAction({
      title: t('person.delete.title', { name: person.name }),
      body: t('person.delete.text'),
      yesLabel: t('person.delete.yes'),
      danger: true,
    });
    if (!yes || this.person !== person) return;
    try {
      await deletePerson(person.id);
    } catch (err) {
      if (!this.shell.handleSignInError(err)) renderError(this.error, err, { context: 'person' });
      return;
    }
    forgetPerson(person.id);
    this.shell.navigate('people', { focus: 'search' });
  }

  title() {
    return this.person?.name ?? t('people.heading');
  }

  show({ person = this.person } = {}) {
    if (!person) return this.shell.navigate('people');
    this.form.close();
    this.showPerson(personById(person.id) ?? person);
    this.titleEl.focus();
  }

  refresh() {
    if (this.person) this.load();
  }

  onEscape(e) {
    e.preventDefault();
    if (this.form.isOpen) return this.form.close();
    this.shell.navigate('people', { focus: 'search' });
  }

  applyLanguage() {
    if (!this.person) return;
    this.renderDetails();
    this.keysList.refresh();
    this.eventsList.refresh();
    this.form.applyLanguage();
    this.revoker.render();
  }

  destroy() {
    this.unsubscribe();
    this.keysList.destroy();
    this.eventsList.destroy();
  }
}

/** The person's events: when, where, what (the lock's name is owner-written: text only). */
const EVENT_COLUMNS = [
  { cell: 'event-time', fill: (td, row) => fillTimeCell(td, row.at) },
  { cell: 'event-lock', fill: (td, row) => (td.textContent = row.lockName || t('keys.unknownLock')) },
  { cell: 'event-action', fill: (td, row) => fillActionCell(td, row.action) },
];
