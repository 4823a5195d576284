// The "Keys" section of the lock view: this lock's keys (status, recipient, window, route) and
// revoking with confirmation. The "New key" form is key-form.js; this section hears of its keys.
// Markup: <section id="lock-keys"> inside <template id="tpl-lock"> in ui/index.html.

import { refreshKeys } from '../ipc.js';
import { t, tn } from '../i18n.js';
import { describeError, renderError } from '../errors.js';
import { formatNumber, formatPhone } from '../format.js';
import { VirtualTable } from '../virtual-table.js';
import { keysOfLock, mergeKeys, onKeys, reloadLockKeys } from '../key-store.js';
import { onPeople } from '../people-store.js';
import {
  createRow, everyMinute, fillRecipientCell, fillRevokeCell, fillRouteCell, fillStatusCell, fillWindowCell, isRevocable,
  newestFirst, recipientInline,
} from './key-cells.js';
import { revokeAsked } from './key-actions.js';
import { KeyForm } from './key-form.js';

const ROW_HEIGHT = 64;

export function createLockKeys(shell, section) {
  return new LockKeys(shell, section);
}

class LockKeys {
  constructor(shell, section) {
    this.shell = shell;
    const q = (sel) => section.querySelector(sel);
    this.ui = {
      count: q('[data-ref="keysCount"]'),
      progress: q('[data-ref="keysProgress"]'),
      notice: q('[data-ref="keysNotice"]'),
      error: q('[data-ref="keysError"]'),
      newKey: q('#new-key'),
      scroller: q('[data-ref="keysScroller"]'),
      table: q('table'),
      caption: q('[data-ref="keysCaption"]'),
      empty: q('[data-ref="keysEmpty"]'),
    };
    this.form = new KeyForm(shell, section, (key, args) => this.created(key, args));
    this.lock = null;
    this.rows = []; // KeyViews in display order
    this.loaded = false;
    this.checking = false;
    this.visible = false;
    this.dirty = false; // keys changed while hidden: rebuild on show
    this.stopTick = null;
    this.revoking = new Set();
    this.notice = null; // {key, params, tone}: re-rendered on a language change
    this.shownError = null; // {error, context}
    this.seq = 0;
    this.destroyed = false;
    this.table = new VirtualTable({
      scroller: this.ui.scroller,
      table: this.ui.table,
      rowHeight: ROW_HEIGHT,
      createRow: () => createRow(['key-status', 'key-recipient', 'key-window', 'key-route', 'key-actions']),
      renderRow: (tr, i) => this.renderRow(tr, i),
    });
    this.ui.table.tBodies[0].addEventListener('click', (e) => {
      const button = e.target instanceof Element ? e.target.closest('.key-revoke') : null;
      if (!button || button.getAttribute('aria-disabled') === 'true') return;
      const id = button.closest('tr')?.getAttribute('data-key-id');
      if (id) this.revoke(id);
    });
    const stopKeys = onKeys((change) => this.keysChanged(change));
    const stopPeople = onPeople(() => this.table.refresh()); // names from People
    this.unsubscribe = () => (stopKeys(), stopPeople());
  }

  renderRow(tr, i) {
    const key = this.rows[i];
    const [status, recipient, validity, route, actions] = tr.cells;
    tr.setAttribute('data-key-id', key.id);
    fillStatusCell(status, key);
    fillRecipientCell(recipient, key);
    fillWindowCell(validity, key);
    fillRouteCell(route, key);
    fillRevokeCell(actions, key, this.revoking.has(key.id));
  }

  keysChanged(change) {
    if (!this.lock) return;
    if (!change.reset && !change.changed.some((k) => k.lockId === this.lock.id)) return;
    if (this.visible) this.rebuild();
    else this.dirty = true;
  }

  // ---- the list -------------------------------------------------------------------------------

  rebuild() {
    this.dirty = false;
    this.rows = this.lock ? keysOfLock(this.lock.id).sort(newestFirst) : [];
    this.table.setRows(this.rows.map((_, i) => i));
    this.renderList();
  }

  renderList() {
    const { ui, rows } = this;
    ui.table.hidden = rows.length === 0;
    ui.scroller.hidden = rows.length === 0;
    ui.empty.hidden = !(this.loaded && rows.length === 0);
    ui.count.textContent = this.loaded ? tn('lockKeys.count', rows.length, { count: formatNumber(rows.length) }) : '';
    ui.caption.textContent = t('lockKeys.caption', { name: this.lock?.name || t('locks.unnamed') });
    ui.progress.textContent = this.checking ? t('lockKeys.checking') : '';
  }

  setNotice(next) {
    this.notice = next;
    this.renderNotice();
  }

  renderNotice() {
    const { notice } = this;
    this.ui.notice.className = `key-notice${notice ? ` tone-${notice.tone}` : ''}`;
    if (notice) this.ui.notice.textContent = t(notice.key, notice.params);
    else this.ui.notice.replaceChildren();
  }

  setError(error, context) {
    this.shownError = error ? { error, context } : null;
    if (error) renderError(this.ui.error, error, { context });
    else this.ui.error.replaceChildren();
  }

  async load() {
    if (!this.lock) return;
    const mine = ++this.seq;
    try {
      await reloadLockKeys(this.lock.id);
    } catch (err) {
      if (this.destroyed || mine !== this.seq || this.shell.handleSignInError(err)) return;
      this.loaded = true;
      this.setError(err, 'keys');
      this.rebuild();
      return;
    }
    if (this.destroyed || mine !== this.seq) return;
    this.loaded = true;
    this.rebuild();
    // Ask Unloc now about the keys that may still change (the background follow-up does it later anyway).
    if (this.rows.some((k) => !k.settled)) this.check({ quiet: true });
  }

  /** A history arrived: the keys it named come from the local store, with no request to Unloc. */
  async historyLoaded() {
    if (!this.lock) return;
    const mine = this.seq;
    try {
      await reloadLockKeys(this.lock.id);
    } catch {
      return; // the list stays as it was; the next load says what went wrong
    }
    if (this.destroyed || mine !== this.seq) return;
    this.loaded = true;
    this.rebuild();
  }

  /** refresh_keys for this lock. quiet: a connection problem is only noted, not alarmed. */
  async check({ quiet = false } = {}) {
    if (!this.lock || this.checking) return;
    const mine = this.seq;
    this.checking = true;
    this.renderList();
    let error = null;
    try {
      mergeKeys(await refreshKeys(this.lock.id));
    } catch (err) {
      error = err;
    }
    if (this.destroyed) return;
    this.checking = false;
    if (mine !== this.seq) return;
    this.renderList();
    if (!error) {
      if (this.notice?.key === 'lockKeys.checkFailed') this.setNotice(null);
      return;
    }
    if (this.shell.handleSignInError(error)) return;
    const info = describeError(error, 'keys');
    if (quiet || info.kind === 'offline' || info.kind === 'timeout') {
      this.setNotice({ key: 'lockKeys.checkFailed', params: { reason: info.title }, tone: 'warning' });
    } else {
      this.setError(error, 'keys');
    }
  }

  // ---- created (by the form) and revoked ------------------------------------------------------

  created(key, args) {
    const [stored] = mergeKeys([key]);
    this.form.close({ focus: false });
    if (!this.rows.some((k) => k.id === stored?.id)) this.rebuild();
    const recipient = stored ? recipientInline(stored) : formatPhone(args.msn).text;
    const waiting = stored?.status === 'awaitingApproval' || (!stored && this.form.isOptIn());
    this.setNotice({ key: waiting ? 'keyForm.doneOptIn' : 'keyForm.done', params: { recipient }, tone: 'success' });
    this.setError(null);
    if (!(stored && this.focusKeyRow(stored.id))) this.ui.newKey.focus();
  }

  async revoke(keyId) {
    const key = this.rows.find((k) => k.id === keyId);
    if (!key || this.revoking.has(keyId) || !isRevocable(key)) return;
    const recipient = recipientInline(key);
    const outcome = await revokeAsked(key, this.lock?.name, () => {
      this.revoking.add(keyId);
      this.setError(null);
      this.setNotice({ key: 'revoke.progress', params: { recipient }, tone: 'progress' });
      this.table.refresh();
    });
    if (!outcome) return;
    this.revoking.delete(keyId);
    if (this.destroyed) return;
    this.table.refresh();
    if (outcome.error) this.revokeFailed(outcome.error);
    else this.revoked(keyId, outcome.answer, recipient);
  }

  revokeFailed(error) {
    this.setNotice(null);
    if (this.shell.handleSignInError(error)) return;
    this.setError(error, 'revokeKey');
    this.ui.error.focus();
  }

  revoked(keyId, answer, recipient) {
    const key = answer?.alreadyRevoked ? 'revoke.already' : 'revoke.done';
    this.setNotice({ key, params: { recipient }, tone: answer?.alreadyRevoked ? 'info' : 'success' });
    this.focusKeyRow(keyId) || this.ui.newKey.focus();
  }

  focusKeyRow(keyId) {
    const i = this.rows.findIndex((k) => k.id === keyId);
    return i >= 0 && this.table.focusDataIndex(i);
  }

  // ---- what the lock view calls ---------------------------------------------------------------

  /** Another lock (or the same again): reset the form and notices, load its keys. */
  setLock(next) {
    const same = this.lock && this.lock.id === next.id;
    this.lock = next;
    this.form.setLock(next);
    if (!same) {
      this.seq += 1;
      this.loaded = false;
      this.checking = false;
      this.form.close({ focus: false });
      this.setNotice(null);
      this.setError(null);
      this.rows = [];
      this.table.setRows([], { reset: true });
    }
    this.renderList();
    this.load();
  }

  show() {
    this.visible = true;
    this.stopTick ??= everyMinute(() => this.table.refresh());
    if (this.dirty) this.rebuild();
  }

  hide() {
    this.visible = false;
    this.stopTick?.();
    this.stopTick = null;
  }

  /** F5 in the lock view: ask Unloc about this lock's keys. */
  refresh() {
    this.check();
  }

  onEscape(e) {
    return this.form.onEscape(e);
  }

  applyLanguage() {
    this.table.refresh();
    this.renderList();
    this.renderNotice();
    if (this.shownError) renderError(this.ui.error, this.shownError.error, { context: this.shownError.context });
    this.form.applyLanguage();
  }

  destroy() {
    this.destroyed = true;
    this.form.destroyed = true;
    this.unsubscribe();
    this.stopTick?.();
    this.table.destroy();
  }
}
