// What people do with a list of keys besides reading it: sort it by a column (KeySort), show only
// the keys that still matter (statusFilter: ended keys hidden by default), and revoke one after a
// question (revokeAsked, used by the lock view and the keys list; KeyRevoker for a list's buttons).

import { revokeKey } from '../ipc.js';
import { t } from '../i18n.js';
import { renderError } from '../errors.js';
import { compareText } from '../format.js';
import { beginOwnAction, mergeKeys } from '../key-store.js';
import { KEY_STATUSES, confirmRevoke, isRevocable, lockLabel, recipientInline, recipientText, statusOf } from './key-cells.js';

/** The filter values besides a single status: "current" (the default) hides expired, revoked and failed keys. */
export const CURRENT = 'current';
export const ALL = 'all';

export function statusFilter(value, key) {
  if (value === ALL) return true;
  if (value === CURRENT) return isRevocable(key);
  return statusOf(key) === value;
}

function timeOf(iso) {
  const ms = Date.parse(iso ?? '');
  return Number.isNaN(ms) ? null : ms;
}

// How each sortable column compares two keys (ascending); null values go last either way.
const SORT_VALUES = {
  status: (k) => KEY_STATUSES.indexOf(statusOf(k)),
  lock: (k) => lockLabel(k),
  recipient: (k) => (k.msn ? recipientText(k) : null),
  window: (k) => timeOf(k.start),
  checked: (k) => timeOf(k.lastChecked),
};

/**
 * Sort buttons in a table's <th>s (data-sort = a SORT_VALUES name): a click sorts by that column, a
 * second click turns the order round; aria-sort tells screen readers. Until a click: `fallback` order.
 */
export class KeySort {
  constructor(table, fallback, onChange) {
    this.buttons = [...table.querySelectorAll('th button[data-sort]')];
    this.fallback = fallback;
    this.sort = null; // {key, dir}
    for (const button of this.buttons) {
      button.addEventListener('click', () => {
        const key = button.dataset.sort;
        this.sort = { key, dir: this.sort?.key === key ? -this.sort.dir : 1 };
        onChange();
      });
    }
  }

  /** Item indices in display order. */
  order(items) {
    const indices = items.map((_, i) => i);
    const { key, dir } = this.sort ?? {};
    for (const button of this.buttons) {
      const th = button.parentElement;
      if (button.dataset.sort === key) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    if (!key) return indices.sort((a, b) => this.fallback(items[a], items[b]));
    const value = SORT_VALUES[key];
    const values = items.map(value);
    return indices.sort((a, b) => {
      const x = values[a];
      const y = values[b];
      if ((x === null) !== (y === null)) return x === null ? 1 : -1;
      const c = typeof x === 'string' ? compareText(x, y) : (x ?? 0) - (y ?? 0);
      return dir * c || this.fallback(items[a], items[b]);
    });
  }
}

/**
 * Ask, then revoke. Resolves null when the user kept the key, else {answer} (a KeyView, merged into the
 * key store; answer.alreadyRevoked when Unloc had revoked it already) or {error}.
 */
export async function revokeAsked(key, lockName, onStart) {
  const ok = await confirmRevoke(key, lockName || lockLabel(key));
  if (!ok) return null;
  onStart?.();
  const done = beginOwnAction(key.id);
  try {
    const answer = await revokeKey(key.id);
    mergeKeys([answer]);
    return { answer };
  } catch (error) {
    return { error };
  } finally {
    done();
  }
}

/** The revoke buttons of a key list: their clicks, the working state, and what happened. */
export class KeyRevoker {
  /**
   * @param {object} o
   * @param {object} o.shell
   * @param {HTMLTableElement} o.table
   * @param {(id: string) => object|undefined} o.find  the key of a row
   * @param {HTMLElement} o.notice  role=status line
   * @param {HTMLElement} o.error  role=alert box
   * @param {() => void} o.changed  re-render the rows (a button's working state)
   */
  constructor(o) {
    this.o = o;
    this.working = new Set();
    this.said = null; // {key, params, tone} | {error}
    o.table.tBodies[0].addEventListener('click', (e) => {
      const button = e.target instanceof Element ? e.target.closest('.key-revoke') : null;
      if (!button || button.getAttribute('aria-disabled') === 'true') return;
      const key = o.find(button.closest('tr')?.getAttribute('data-key-id'));
      if (key) this.revoke(key);
    });
  }

  async revoke(key) {
    if (this.working.has(key.id) || !isRevocable(key)) return;
    const recipient = recipientInline(key);
    const outcome = await revokeAsked(key, key.lockName, () => {
      this.working.add(key.id);
      this.say({ key: 'revoke.progress', params: { recipient }, tone: 'progress' });
      this.o.changed();
    });
    if (!outcome) return;
    this.working.delete(key.id);
    this.o.changed();
    if (outcome.error) {
      if (this.o.shell.handleSignInError(outcome.error)) return;
      this.say({ error: outcome.error });
      this.o.error.focus();
      return;
    }
    const already = outcome.answer?.alreadyRevoked;
    this.say({ key: already ? 'revoke.already' : 'revoke.done', params: { recipient }, tone: already ? 'info' : 'success' });
  }

  say(said) {
    this.said = said;
    this.render();
  }

  render() {
    const { notice, error } = this.o;
    const said = this.said;
    notice.className = `key-notice${said?.tone ? ` tone-${said.tone}` : ''}`;
    notice.textContent = said?.key ? t(said.key, said.params) : '';
    if (said?.error) renderError(error, said.error, { context: 'revokeKey' });
    else error.replaceChildren();
  }
}
