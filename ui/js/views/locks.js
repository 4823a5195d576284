// The locks list: every lock the owners granted this partner, with search, the opt-in filter,
// sorting and a virtualized table (10,000 locks is a normal partner). The saved list (cached_locks)
// shows at once, also offline; then Unloc is asked.
// Markup: <template id="tpl-locks"> in ui/index.html (section #locks-view).

import { cachedLocks, listLocks } from '../ipc.js';
import { fillNodes, fromTemplate, t, tn } from '../i18n.js';
import { fold, formatAddress, formatNumber, grantBadge, grantKind } from '../format.js';
import { collationRanks, orderByRank } from '../collation.js';
import { ListView } from './list-view.js';
import { CachedThenLive } from './list-loader.js';
import { afterNextFrame, firstStep } from '../timeline.js';

const TEMPLATE = 'tpl-locks';
const ROW_HEIGHT = 44;
const GRANT_ORDER = { 'opt-in': 0, 'opt-out': 1, unknown: 2 };

export function createLocksView(shell) {
  return new LocksView(shell);
}

class LocksView {
  constructor(shell) {
    this.shell = shell;
    this.el = fromTemplate(TEMPLATE);
    const q = (sel) => this.el.querySelector(sel);
    this.heading = q('#locks-heading');
    this.summaryText = q('[data-ref="summaryText"]');
    this.filterButton = q('#filter-opt-in');
    this.sortButtons = [...this.el.querySelectorAll('th button[data-sort]')];
    this.optInCount = document.createElement('span');
    this.optInCount.id = 'opt-in-count';
    this.optInCount.className = 'count-number';
    this.addresses = []; // display address per lock ('' = none), derived when first needed (addressAt)
    this.optIns = 0;
    this.optInOnly = false;
    this.sort = { key: 'name', dir: 1 };
    this.savedScroll = 0;
    this.list = new ListView({
      el: this.el,
      rowHeight: ROW_HEIGHT,
      rowClass: 'row-link',
      columns: [
        { cell: 'lock-name', fill: (td, lock) => setText(td, lock.name, 'locks.unnamed') },
        { cell: 'lock-address', fill: (td, _, i) => setText(td, this.addressAt(i), 'locks.noAddress') },
        { cell: 'lock-data', fill: (td, lock) => setText(td, referenceOf(lock), null) },
        { cell: 'lock-auth', fill: (td, lock) => td.replaceChildren(grantBadge(lock.auth)) },
      ],
      row: (tr, lock) => tr.setAttribute('data-lock-id', lock.id),
      prepare: (locks) => this.prepare(locks),
      searchText: (lock, i) => fold(`${lock.name ?? ''}\n${this.addressAt(i)}\n${referenceOf(lock)}`),
      order: (locks) => this.order(locks),
      filter: (lock) => !this.optInOnly || lock.auth === 'opt-in',
      search: q('#locks-search'),
      enterOpensOnlyRow: true,
      count: { el: q('#locks-count'), text: (shown, total) => countText(shown, total) },
      empty: { id: 'locks-empty', none: () => this.noLocks(), noMatch: () => this.noMatch(), onClear: () => this.setOptInOnly(false, false) },
      onOpen: (lock) => shell.navigate('lock', { lock }),
    });
    this.loader = new CachedThenLive({
      shell,
      list: this.list,
      parts: { view: this.el, refresh: q('#locks-refresh'), progress: q('[data-ref="progress"]'), updated: q('#locks-updated'), error: q('[data-ref="error"]') },
      cached: () => cachedLocks(),
      live: () => listLocks(),
      rowsOf: (page) => page.locks,
      onData: () => this.renderSummary(),
      source: 'locks',
      loadingKey: 'locks.loading',
      refreshingKey: 'locks.refreshing',
      skippedKey: 'locks.skipped',
    });
    this.wire(q('#locks-refresh'));
  }

  wire(refresh) {
    refresh.addEventListener('click', () => this.loader.load());
    this.filterButton.addEventListener('click', () => this.setOptInOnly(!this.optInOnly, true));
    for (const button of this.sortButtons) {
      button.addEventListener('click', () => {
        const key = button.dataset.sort;
        this.sort = { key, dir: this.sort.key === key ? -this.sort.dir : 1 };
        this.list.reorder();
      });
    }
  }

  setLocks(locks) {
    this.list.setItems(Array.isArray(locks) ? locks : []);
    this.renderSummary();
  }

  prepare(locks) {
    // Addresses are formatted when a row, a search or a sort needs them, not all before the first rows.
    this.addresses = new Array(locks.length);
    this.optIns = locks.filter((lock) => lock.auth === 'opt-in').length;
  }

  /** The display address of the lock at index i ('' = none); country names are in the UI language. */
  addressAt(i) {
    let address = this.addresses[i];
    if (address === undefined) address = this.addresses[i] = formatAddress(this.list.items[i]);
    return address;
  }

  /** Lock indices in the chosen column's order; missing values last in both directions, ties by name. */
  order(locks) {
    const { key, dir } = this.sort;
    // Texts compared as their places in the collation (numbers): see collationRanks.
    const name = firstStep('locks-table:name-ranks', () => collationRanks(Array.from(locks, (lock) => lock.name ?? '')));
    const byName = (a, b) => name[a] - name[b];
    const byText = (get) => {
      const texts = Array.from(locks, (_, i) => get(i));
      const rank = collationRanks(texts);
      return (a, b) => {
        if (!texts[a] !== !texts[b]) return texts[a] ? -1 : 1;
        return dir * (rank[a] - rank[b]) || byName(a, b);
      };
    };
    const byGrant = () => {
      const auth = collationRanks(Array.from(locks, (lock) => lock.auth ?? ''));
      const kind = (i) => GRANT_ORDER[grantKind(locks[i].auth)];
      return (a, b) => dir * (kind(a) - kind(b)) || auth[a] - auth[b] || byName(a, b);
    };
    const comparators = {
      name: () => (a, b) => dir * byName(a, b),
      address: () =>
        byText((i) => {
          const l = locks[i];
          const address = this.addressAt(i);
          return address ? `${l.city ?? ''}\u0001${l.street ?? ''}\u0001${address}` : '';
        }),
      data: () => byText((i) => referenceOf(locks[i])),
      auth: byGrant,
    };
    for (const button of this.sortButtons) {
      const th = button.parentElement;
      if (button.dataset.sort === key) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    // By name (the default, and the order of the first rows after sign-in): a counting sort of the
    // names' ranks, the same order as the comparator's stable sort without its ~140,000 calls.
    if (key === 'name') return orderByRank(name, dir);
    return Array.from(locks, (_, i) => i).sort(comparators[key]());
  }

  setOptInOnly(on, apply) {
    this.optInOnly = on;
    this.filterButton.setAttribute('aria-pressed', String(on));
    if (apply) this.list.applyFilter(true);
  }

  renderSummary() {
    if (!this.list.loaded) {
      this.summaryText.replaceChildren();
      return;
    }
    this.optInCount.textContent = String(this.optIns);
    fillNodes(this.summaryText, 'locks.optInSummary', { count: this.optInCount }, this.optIns);
  }

  noLocks() {
    return { title: t('locks.empty.none.title'), text: t('locks.empty.none.text', { partner: this.shell.session?.partnerId ?? '' }) };
  }

  noMatch() {
    const q = this.list.query.trim();
    const key = !q ? 'locks.empty.noMatch.filter' : this.optInOnly ? 'locks.empty.noMatch.searchAndFilter' : 'locks.empty.noMatch.search';
    return { title: t('locks.empty.noMatch.title'), text: t(key, { query: q }) };
  }

  title() {
    return t('locks.heading');
  }

  show({ focus, focusLockId, page } = {}) {
    if (this.savedScroll) this.list.scroller.scrollTop = this.savedScroll;
    // Rows from before (back from a lock) follow the language; with none yet, nothing to lay out.
    if (this.list.loaded) this.list.virtual.refresh();
    // Sign-in already fetched the list (that is how the token was checked): no second request.
    // The saved list from the start-up reply shows at once; Unloc is asked next, as after cached_locks.
    const accepted = !this.list.loaded && !this.loader.loading && Array.isArray(page?.locks);
    if (accepted) {
      firstStep('locks:accept', () => this.loader.accept(page));
      // Unloc is asked once the saved rows are drawn: its reply (10,000 locks fetched, saved and
      // sent) otherwise competes with WebKit drawing them.
      if (page.fromCache) afterNextFrame(() => this.loader.load());
    }
    if (!this.list.loaded && !this.loader.loading) this.loader.load();
    if (focusLockId !== undefined && this.list.focusWhere((lock) => lock.id === focusLockId)) return;
    if (focus === 'search') this.list.search.focus();
    else if (accepted) this.focusHeadingAfterRows();
    else this.heading.focus();
  }

  // Moving the focus into the new view makes WebKit lay it out and tell the accessibility tree
  // (~50 ms for 10,000 locks): with rows just handed over (sign-in's, or the start-up's saved list)
  // they are painted first, then the focus follows, unless the user put it somewhere meanwhile
  // (in the view, or on a link or control they tabbed to: not taken from them).
  focusHeadingAfterRows() {
    requestAnimationFrame(() =>
      setTimeout(() => {
        const active = document.activeElement;
        const placed = active && active !== document.body && (this.el.contains(active) || active.checkVisibility?.());
        if (this.el.isConnected && !placed) firstStep('locks:focus', () => this.heading.focus());
      }),
    );
  }

  hide() {
    this.savedScroll = this.list.scroller.scrollTop;
  }

  refresh() {
    this.loader.load();
  }

  /** Unloc said this lock is gone (404): take it off the list without asking Unloc again. */
  removeLock(lockId) {
    const locks = this.list.items;
    if (!this.list.loaded || !locks.some((lock) => lock.id === lockId)) return;
    this.setLocks(locks.filter((lock) => lock.id !== lockId));
  }

  focusSearch() {
    this.list.focusSearch();
  }

  onEscape(e) {
    if (this.list.clearSearchOnEscape(e)) e.preventDefault();
  }

  applyLanguage() {
    if (this.list.loaded) this.list.setItems(this.list.items); // addresses and collation follow the language
    this.list.renderCount();
    this.renderSummary();
    this.loader.render();
  }

  destroy() {
    this.loader.destroy();
    this.list.destroy();
  }
}

function countText(shown, total) {
  return tn('locks.count', total, { shown: formatNumber(shown), total: formatNumber(total) });
}

// Text that may be missing: the placeholder is muted, and "—" is explained to screen readers.
function setText(td, text, missingKey) {
  if (text) {
    td.textContent = text;
    td.setAttribute('title', text);
    td.classList.remove('is-missing');
    return;
  }
  td.removeAttribute('title');
  td.classList.add('is-missing');
  if (missingKey) {
    td.textContent = t(missingKey);
    return;
  }
  const dash = document.createElement('span');
  dash.setAttribute('aria-hidden', 'true');
  dash.textContent = t('common.none.symbol');
  const said = document.createElement('span');
  said.className = 'sr-only';
  said.textContent = t('common.none');
  td.replaceChildren(dash, said);
}

function referenceOf(lock) {
  return typeof lock.data === 'string' ? lock.data.trim() : '';
}
