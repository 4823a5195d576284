// People: the office's directory of names for phone numbers (name, phone, team or note), searchable,
// with "Add person" and "Import from file…"; a row opens the person's page. The directory lives in
// the local store; people-store.js holds it for every view.
// Markup: <template id="tpl-people"> in ui/index.html (section #people-view).

import { fromTemplate, t, tn } from '../i18n.js';
import { renderError } from '../errors.js';
import { fold, formatNumber, formatPhone } from '../format.js';
import { allKeys, onKeys } from '../key-store.js';
import { allPeople, onPeople, reloadPeople } from '../people-store.js';
import { isRevocable } from './key-cells.js';
import { ListView } from './list-view.js';
import { PersonForm } from './person-form.js';
import { PeopleImport } from './people-import.js';

const TEMPLATE = 'tpl-people';
const ROW_HEIGHT = 40;

export function createPeopleView(shell) {
  return new PeopleView(shell);
}

class PeopleView {
  constructor(shell) {
    this.shell = shell;
    this.el = fromTemplate(TEMPLATE);
    const q = (sel) => this.el.querySelector(sel);
    this.error = q('[data-ref="error"]');
    this.keyCounts = new Map(); // phone → keys that still work or may come to
    this.list = new ListView({
      el: this.el,
      rowHeight: ROW_HEIGHT,
      columns: [
        { cell: 'person-name', fill: (td, p) => (td.textContent = p.name) },
        { cell: 'person-phone', fill: (td, p) => (td.textContent = formatPhone(p.phone).text) },
        { cell: 'person-note', fill: fillNote },
        { cell: 'person-keys', fill: (td, p) => (td.textContent = formatNumber(this.keyCounts.get(p.phone) ?? 0)) },
      ],
      row: (tr, p) => tr.setAttribute('data-person-id', String(p.id)),
      rowClass: 'row-link',
      prepare: () => this.countKeys(),
      searchText: personSearchText,
      search: q('#people-search'),
      enterOpensOnlyRow: true,
      count: { el: q('#people-count'), text: (shown, total) => tn('people.count', total, { shown: formatNumber(shown), total: formatNumber(total) }) },
      empty: {
        id: 'people-empty',
        none: () => ({
          title: t('people.empty.none.title'),
          text: t('people.empty.none.text'),
          action: { label: t('people.add'), onClick: () => this.form.open() },
        }),
        noMatch: () => ({ title: t('people.empty.noMatch.title'), text: t('people.empty.noMatch.text') }),
      },
      onOpen: (person) => shell.navigate('person', { person }),
    });
    this.form = new PersonForm(shell, q('[data-ref="personForm"]'), (person) => {
      this.list.setItems(allPeople());
      this.shell.navigate('person', { person });
    });
    this.importer = new PeopleImport(shell, q('[data-ref="importPanel"]'), () => this.list.setItems(allPeople()));
    q('#people-add').addEventListener('click', () => this.form.open());
    q('#people-import').addEventListener('click', () => this.importer.start());
    const stopPeople = onPeople(() => this.list.setItems(allPeople()));
    const stopKeys = onKeys(() => this.list.setItems(allPeople()));
    this.unsubscribe = () => (stopPeople(), stopKeys());
  }

  countKeys() {
    this.keyCounts.clear();
    for (const key of allKeys()) {
      if (key.msn && isRevocable(key)) this.keyCounts.set(key.msn, (this.keyCounts.get(key.msn) ?? 0) + 1);
    }
  }

  async load() {
    this.el.classList.toggle('is-loading', !this.list.loaded);
    try {
      await reloadPeople();
      this.error.replaceChildren();
    } catch (err) {
      if (this.shell.handleSignInError(err)) return;
      renderError(this.error, err, { context: 'people' });
    }
    this.el.classList.remove('is-loading');
    this.el.classList.add('has-data');
    this.list.setItems(allPeople());
  }

  title() {
    return t('people.heading');
  }

  show({ focus } = {}) {
    this.list.setItems(allPeople(), { loaded: this.list.loaded });
    this.load();
    if (focus === 'search') this.list.focusSearch();
    else this.el.querySelector('#people-heading').focus();
  }

  refresh() {
    this.load();
  }

  focusSearch() {
    this.list.focusSearch();
  }

  onEscape(e) {
    if (this.form.isOpen && this.form.form.contains(e.target)) {
      e.preventDefault();
      this.form.close();
      return;
    }
    if (this.list.clearSearchOnEscape(e)) e.preventDefault();
  }

  applyLanguage() {
    this.list.refresh();
    this.form.applyLanguage();
    this.importer.render();
  }

  destroy() {
    this.unsubscribe();
    this.list.destroy();
  }
}

function fillNote(td, person) {
  td.textContent = person.note ?? t('common.none.symbol');
  td.classList.toggle('is-missing', !person.note);
  if (person.note) td.setAttribute('title', person.note);
  else td.removeAttribute('title');
}

/** The name, the team or note, and the number in the forms people type (+47…, 47…, the 8 digits). */
export function personSearchText(person) {
  const digits = person.phone.replace(/\D/g, '');
  const national = digits.startsWith('47') ? digits.slice(2) : '';
  return fold(`${person.name}\n${person.note ?? ''}\n${person.phone}\n${digits}\n${national}`);
}
