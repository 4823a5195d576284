// Every key the app knows (created here, seen in event histories, added by id): status filter (ended
// keys hidden until asked for), sortable columns, search, revoke, "check with Unloc now", add a key by
// its id. Virtualized like the locks list.
// Markup: <template id="tpl-keys"> in ui/index.html (section #keys-view; the add form is [data-ref="addForm"]).

import { addKey, exportKeys } from '../ipc.js';
import { t, tn } from '../i18n.js';
import { describeError, renderError } from '../errors.js';
import { fold, formatNumber } from '../format.js';
import { allKeys, hasKey, mergeKeys } from '../key-store.js';
import {
  KEY_STATUSES, fillLockCell, fillRecipientCell, fillRevokeCell, fillRouteCell, fillStatusCell, fillTimeCell, fillWindowCell,
  lockLabel, newestFirst, recipientInline, recipientText, statusOf,
} from './key-cells.js';
import { ALL, CURRENT, KeyRevoker, KeySort, statusFilter } from './key-actions.js';
import { KeyListView } from './key-list.js';
import { wireExport } from './export-actions.js';

const TEMPLATE = 'tpl-keys';
// Three short lines (styles.css, .keys-list-table): a status badge over two lines and when it was
// last used, a lock's name or a window over three, a recipient with who created and revoked it where.
const ROW_HEIGHT = 64;

export function createKeysView(shell) {
  return new KeysView(shell);
}

class KeysView extends KeyListView {
  constructor(shell) {
    super(shell, {
      template: TEMPLATE,
      name: 'keys',
      keys: () => allKeys(),
      bannerSince: true,
      list: (view) => ({
        rowHeight: ROW_HEIGHT,
        columns: [
          { cell: 'key-status', fill: (td, key) => fillStatusCell(td, key) },
          { cell: 'key-lock', fill: (td, key) => fillLockCell(td, key, view.canOpen(key)) },
          { cell: 'key-recipient', fill: fillRecipientCell },
          { cell: 'key-window', fill: fillWindowCell },
          { cell: 'key-route', fill: fillRouteCell },
          { cell: 'key-checked', fill: (td, key) => fillTimeCell(td, key.lastChecked, key.status === 'seenInHistory' ? 'keys.fromHistory' : 'keys.neverChecked', { short: true }) },
          { cell: 'key-actions', fill: (td, key) => fillRevokeCell(td, key, Boolean(view.revoker?.working.has(key.id))) },
        ],
        row: (tr, key) => view.markRow(tr, key),
        searchText: keySearchText,
        // Built before this constructor's body runs: newest first until a column is chosen.
        order: (items) => (view.sorter ? view.sorter.order(items) : items.map((_, i) => i).sort((a, b) => newestFirst(items[a], items[b]))),
        filter: (key) => statusFilter(view.state.value, key),
        search: view.el.querySelector('#keys-search'),
        count: { el: view.el.querySelector('#keys-count'), text: countText },
        empty: {
          id: 'keys-empty',
          none: () => ({
            title: t('keys.empty.none.title'),
            text: t('keys.empty.none.text'),
            action: { label: t('keys.empty.none.action'), onClick: () => shell.navigate('locks', { focus: 'search' }) },
          }),
          noMatch: () => ({ title: t('keys.empty.noMatch.title'), text: t('keys.empty.noMatch.text') }),
          onClear: () => {
            view.state.value = ALL;
          },
        },
      }),
    });
    this.addForm = new AddKeyForm(this);
    this.sorter = new KeySort(this.list.table, newestFirst, () => this.list.reorder());
    const q = (sel) => this.el.querySelector(sel);
    this.revoker = new KeyRevoker({
      shell,
      table: this.list.table,
      find: (id) => this.list.items.find((k) => k.id === id),
      notice: q('[data-ref="revokeStatus"]'),
      error: q('[data-ref="revokeError"]'),
      changed: () => this.list.virtual.refresh(),
    });
    this.state.value = CURRENT;
    for (const status of KEY_STATUSES) {
      const option = document.createElement('option');
      option.value = status;
      option.setAttribute('data-i18n', `keyStatus.${status}`);
      option.textContent = t(`keyStatus.${status}`);
      this.state.append(option);
    }
    this.state.addEventListener('change', () => this.list.applyFilter(true));
    // Every known key goes to the file, whatever the filter: a record, not a view.
    wireExport(this.el, { fileName: () => t('export.name.keys'), run: (request) => exportKeys(request) });
  }

  /** The status filter (#keys-state): found on first use, since the list is built before it is. */
  get state() {
    this.stateSelect ??= this.el.querySelector('#keys-state');
    return this.stateSelect;
  }

  /** A key just added: make sure it can be seen (a filter that hides it goes). */
  reveal(key) {
    if (!this.visible) return;
    this.rebuild();
    const shown = this.list.items.find((k) => k.id === key.id);
    if (shown && !this.list.isShown(shown)) this.list.clearFilters();
  }

  title() {
    return t('keys.heading');
  }

  show(params) {
    this.addForm.render();
    super.show(params);
  }

  focusSearch() {
    this.list.focusSearch();
  }

  onEscape(e) {
    if (this.list.clearSearchOnEscape(e)) e.preventDefault();
  }

  applyLanguage() {
    super.applyLanguage();
    this.addForm.render();
    this.revoker.render();
  }
}

/** "Add a key by its id": add_key, then say what it is (or that it was known already). */
class AddKeyForm {
  constructor(view) {
    this.view = view;
    const q = (sel) => view.el.querySelector(sel);
    this.form = q('[data-ref="addForm"]');
    this.input = q('#keys-add-id');
    this.button = q('#keys-add');
    this.label = q('#keys-add .button-label');
    this.fieldError = q('#keys-add-error');
    this.status = q('[data-ref="addStatus"]');
    this.error = q('[data-ref="addError"]');
    this.adding = false;
    this.notice = null; // {key, params, tone}: re-rendered on a language change
    this.shown = null; // {error, field} | {field}
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener('input', () => {
      if (this.shown?.field) {
        this.shown = { ...this.shown, field: null };
        this.render();
      }
    });
  }

  render() {
    const { adding, notice, shown } = this;
    this.button.classList.toggle('is-busy', adding);
    this.button.disabled = adding;
    this.label.textContent = t(adding ? 'keys.add.working' : 'keys.add.submit');
    this.status.className = `key-notice${notice ? ` tone-${notice.tone}` : ''}`;
    this.status.textContent = notice ? t(notice.key, notice.params) : '';
    const fieldKey = shown?.field ?? null;
    if (fieldKey) this.input.setAttribute('aria-invalid', 'true');
    else this.input.removeAttribute('aria-invalid');
    this.input.closest('.field')?.classList.toggle('has-error', Boolean(fieldKey));
    this.fieldError.textContent = fieldKey ? t(fieldKey) : '';
    if (shown?.error) renderError(this.error, shown.error, { context: 'addKey' });
    else this.error.replaceChildren();
  }

  async submit() {
    if (this.adding) return;
    const id = this.input.value.trim();
    this.shown = null;
    if (!id) {
      this.notice = null;
      this.shown = { field: 'keys.add.empty' };
      this.render();
      this.input.focus();
      return;
    }
    const known = hasKey(id);
    this.adding = true;
    this.notice = { key: 'keys.add.progress', params: {}, tone: 'progress' };
    this.render();
    let key = null;
    let error = null;
    try {
      key = await addKey(id);
    } catch (err) {
      error = err;
    }
    if (this.view.destroyed) return;
    this.adding = false;
    if (error) this.failed(error);
    else this.added(key, known);
  }

  failed(error) {
    this.notice = null;
    if (this.view.shell.handleSignInError(error)) return;
    const info = describeError(error, 'addKey');
    this.shown = { error, field: info.kind === 'invalidInput' || info.kind === 'notFound' ? 'keys.add.notAccepted' : null };
    this.render();
    this.input.focus();
  }

  added(key, known) {
    const [stored] = mergeKeys([key]);
    this.input.value = '';
    const params = {
      recipient: stored ? recipientInline(stored) : '',
      lock: stored ? lockLabel(stored) : '',
      status: t(`keyStatus.${statusOf(stored)}`),
    };
    this.notice = { key: known ? 'keys.add.known' : 'keys.add.done', params, tone: 'success' };
    this.render();
    if (stored) this.view.reveal(stored);
  }
}

/** The lock, the recipient in the forms people type (+47…, 47…, the 8 digits), the route and the id. */
function keySearchText(k) {
  const msn = typeof k.msn === 'string' ? k.msn : '';
  const digits = msn.replace(/\D/g, '');
  const national = digits.startsWith('47') ? digits.slice(2) : '';
  return fold(`${k.lockName ?? ''}\n${recipientText(k)}\n${msn}\n${digits}\n${national}\n${k.route ?? ''}\n${k.id}`);
}

function countText(shown, total) {
  return tn('keys.count', total, { shown: formatNumber(shown), total: formatNumber(total) });
}
