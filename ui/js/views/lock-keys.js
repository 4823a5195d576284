// The "Keys" section of the lock view: this lock's keys (status, recipient, window, route), the
// "New key" form (with the owner-approval warning on opt-in locks) and revoking with confirmation.

import { createKey, refreshKeys, revokeKey } from '../ipc.js';
import { fillNodes, t, tn } from '../i18n.js';
import { describeError, renderError } from '../errors.js';
import {
  formatNumber, formatPhone, normalizePhone, parseDateTimeInput, timeZoneLabel, toDateTimeInputValue,
} from '../format.js';
import { VirtualTable } from '../virtual-table.js';
import { confirmAction } from '../confirm.js';
import { beginOwnAction, keysOfLock, mergeKeys, onKeys, reloadLockKeys } from '../key-store.js';
import {
  everyMinute, fillRecipientCell, fillRouteCell, fillStatusCell, fillWindowCell, isRevocable, lockLabel, newestFirst,
  recipientInline,
} from './key-cells.js';

const ROW_HEIGHT = 44;
const FIELDS = ['msn', 'start', 'end', 'route'];
// A start this close to now (or earlier) is sent as "now" (null): the clock moves while the form is open.
const NOW_SLACK_MS = 60 * 1000;

export function createLockKeys(shell, section) {
  const q = (sel) => section.querySelector(sel);
  const ui = {
    heading: q('#lock-keys-heading'),
    count: q('[data-ref="keysCount"]'),
    progress: q('[data-ref="keysProgress"]'),
    notice: q('[data-ref="keysNotice"]'),
    error: q('[data-ref="keysError"]'),
    newKey: q('#new-key'),
    form: q('#key-form'),
    formError: q('#key-form-error'),
    warning: q('#key-optin-warning'),
    submit: q('#key-submit'),
    submitLabel: q('#key-submit .button-label'),
    cancel: q('#key-cancel'),
    formProgress: q('#key-form-progress'),
    zoneHint: q('[data-ref="zoneHint"]'),
    scroller: q('[data-ref="keysScroller"]'),
    table: q('table'),
    caption: q('[data-ref="keysCaption"]'),
    empty: q('[data-ref="keysEmpty"]'),
    emptyText: q('[data-ref="keysEmptyText"]'),
  };
  const inputs = { msn: q('#key-msn'), start: q('#key-start'), end: q('#key-end'), route: q('#key-route') };
  const dateInputType = inputs.start.type; // "text" where the webview has no date-time field

  let lock = null;
  let rows = []; // KeyViews in display order
  let loaded = false;
  let checking = false;
  let busy = false; // creating a key
  let visible = false;
  let dirty = false;
  let stopTick = null;
  const revoking = new Set();
  let notice = null; // {key, params, tone}: re-rendered on a language change
  let shownError = null; // {error, context}
  let formShown = null; // what #key-form-error shows: {error} or {key}
  let fieldErrors = {}; // field → catalog key
  let seq = 0;
  let destroyed = false;

  const table = new VirtualTable({
    scroller: ui.scroller,
    table: ui.table,
    rowHeight: ROW_HEIGHT,
    createRow,
    renderRow,
  });

  function createRow() {
    const tr = document.createElement('tr');
    for (const cls of ['key-status', 'key-recipient', 'key-window', 'key-route', 'key-actions']) {
      const td = document.createElement('td');
      td.className = cls;
      tr.append(td);
    }
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button button-small key-revoke';
    const spinner = document.createElement('span');
    spinner.className = 'spinner';
    spinner.setAttribute('aria-hidden', 'true');
    const label = document.createElement('span');
    label.className = 'button-label';
    button.append(spinner, label);
    tr.cells[4].append(button);
    return tr;
  }

  function renderRow(tr, i) {
    const key = rows[i];
    const [status, recipient, validity, route, actions] = tr.cells;
    tr.setAttribute('data-key-id', key.id);
    fillStatusCell(status, key);
    fillRecipientCell(recipient, key);
    fillWindowCell(validity, key);
    fillRouteCell(route, key);
    const button = actions.firstElementChild;
    const working = revoking.has(key.id);
    button.hidden = !isRevocable(key);
    button.classList.toggle('is-busy', working);
    if (working) button.setAttribute('aria-disabled', 'true');
    else button.removeAttribute('aria-disabled');
    button.lastElementChild.textContent = t(working ? 'revoke.working' : 'revoke.button');
    button.setAttribute('aria-label', t(working ? 'revoke.working' : 'revoke.buttonFor', { recipient: recipientInline(key) }));
  }

  // ---- the list -------------------------------------------------------------------------------

  function rebuild() {
    dirty = false;
    rows = lock ? keysOfLock(lock.id).sort(newestFirst) : [];
    table.setRows(rows.map((_, i) => i));
    renderList();
  }

  function renderList() {
    const none = loaded && rows.length === 0;
    ui.table.hidden = rows.length === 0;
    ui.scroller.hidden = rows.length === 0;
    ui.empty.hidden = !none;
    ui.count.textContent = loaded ? tn('lockKeys.count', rows.length, { count: formatNumber(rows.length) }) : '';
    ui.caption.textContent = t('lockKeys.caption', { name: lock?.name || t('locks.unnamed') });
    ui.progress.textContent = checking ? t('lockKeys.checking') : '';
  }

  function setNotice(next) {
    notice = next;
    renderNotice();
  }

  function renderNotice() {
    ui.notice.className = `key-notice${notice ? ` tone-${notice.tone}` : ''}`;
    if (!notice) {
      ui.notice.replaceChildren();
      return;
    }
    ui.notice.textContent = t(notice.key, notice.params);
  }

  function setError(error, context) {
    shownError = error ? { error, context } : null;
    if (shownError) renderError(ui.error, error, { context });
    else ui.error.replaceChildren();
  }

  async function load() {
    if (!lock) return;
    const mine = ++seq;
    const lockId = lock.id;
    try {
      await reloadLockKeys(lockId);
    } catch (err) {
      if (destroyed || mine !== seq) return;
      if (shell.handleSignInError(err)) return;
      loaded = true;
      setError(err, 'keys');
      rebuild();
      return;
    }
    if (destroyed || mine !== seq) return;
    loaded = true;
    rebuild();
    // Ask Unloc now about the keys that may still change (the background follow-up does it later anyway).
    if (rows.some((k) => !k.settled)) check({ quiet: true });
  }

  /** refresh_keys for this lock. quiet: a connection problem is only noted, not alarmed. */
  async function check({ quiet = false } = {}) {
    if (!lock || checking) return;
    const mine = seq;
    checking = true;
    renderList();
    let error = null;
    try {
      mergeKeys(await refreshKeys(lock.id));
    } catch (err) {
      error = err;
    }
    if (destroyed) return;
    checking = false;
    if (mine !== seq) return;
    renderList();
    if (!error) {
      if (notice?.key === 'lockKeys.checkFailed') setNotice(null);
      return;
    }
    if (shell.handleSignInError(error)) return;
    const info = describeError(error, 'keys');
    if (quiet || info.kind === 'offline' || info.kind === 'timeout') {
      setNotice({ key: 'lockKeys.checkFailed', params: { reason: info.title }, tone: 'warning' });
    } else {
      setError(error, 'keys');
    }
  }

  const unsubscribe = onKeys((change) => {
    if (!lock) return;
    if (!change.reset && !change.changed.some((k) => k.lockId === lock.id)) return;
    if (visible) rebuild();
    else dirty = true;
  });

  // ---- revoke ---------------------------------------------------------------------------------

  function confirmBody(key) {
    const p = document.createElement('p');
    const who = document.createElement('strong');
    who.textContent = recipientInline(key);
    const where = document.createElement('strong');
    where.textContent = lock?.name || lockLabel(key);
    fillNodes(p, 'revoke.text', { recipient: who, lock: where });
    const after = document.createElement('p');
    after.className = 'hint';
    after.textContent = t('revoke.final');
    return [p, after];
  }

  async function revoke(keyId) {
    const key = rows.find((k) => k.id === keyId);
    if (!key || revoking.has(keyId) || !isRevocable(key)) return;
    const ok = await confirmAction({
      title: t('revoke.title'),
      body: confirmBody(key),
      yesLabel: t('revoke.button'),
      noLabel: t('revoke.keep'),
      danger: true,
    });
    if (!ok || destroyed) return;
    const recipient = recipientInline(key);
    revoking.add(keyId);
    setError(null);
    setNotice({ key: 'revoke.progress', params: { recipient }, tone: 'progress' });
    table.refresh();
    const done = beginOwnAction(keyId);
    let answer = null;
    let error = null;
    try {
      answer = await revokeKey(keyId);
      mergeKeys([answer]);
    } catch (err) {
      error = err;
    } finally {
      done();
      revoking.delete(keyId);
    }
    if (destroyed) return;
    table.refresh();
    if (error) {
      setNotice(null);
      if (shell.handleSignInError(error)) return;
      setError(error, 'revokeKey');
      ui.error.focus();
      return;
    }
    setNotice(
      answer?.alreadyRevoked
        ? { key: 'revoke.already', params: { recipient }, tone: 'info' }
        : { key: 'revoke.done', params: { recipient }, tone: 'success' },
    );
    focusKeyRow(keyId) || ui.newKey.focus();
  }

  function focusKeyRow(keyId) {
    const i = rows.findIndex((k) => k.id === keyId);
    return i >= 0 && table.focusDataIndex(i);
  }

  ui.table.tBodies[0].addEventListener('click', (e) => {
    const button = e.target instanceof Element ? e.target.closest('.key-revoke') : null;
    if (!button || button.getAttribute('aria-disabled') === 'true') return;
    const id = button.closest('tr')?.getAttribute('data-key-id');
    if (id) revoke(id);
  });

  // ---- the "New key" form ---------------------------------------------------------------------

  function isOptIn() {
    return lock?.auth === 'opt-in';
  }

  function openForm() {
    if (!lock) return;
    if (!ui.form.hidden) {
      inputs.msn.focus();
      return;
    }
    ui.form.reset();
    clearFormErrors();
    inputs.start.value = toDateTimeInputValue(new Date(), dateInputType);
    ui.warning.hidden = !isOptIn();
    ui.form.hidden = false;
    ui.newKey.setAttribute('aria-expanded', 'true');
    renderFormStatic();
    inputs.msn.focus();
  }

  function closeForm({ focus = true } = {}) {
    if (ui.form.hidden) return;
    ui.form.hidden = true;
    ui.newKey.setAttribute('aria-expanded', 'false');
    clearFormErrors();
    if (focus) ui.newKey.focus();
  }

  function renderFormStatic() {
    ui.zoneHint.textContent = t('keyForm.zone', { zone: timeZoneLabel() });
    const placeholder = dateInputType === 'datetime-local' ? '' : t('keyForm.datePlaceholder');
    for (const field of ['start', 'end']) {
      if (placeholder) inputs[field].setAttribute('placeholder', placeholder);
      else inputs[field].removeAttribute('placeholder');
    }
  }

  function setFieldError(field, key) {
    fieldErrors[field] = key;
    const input = inputs[field];
    const message = q(`#key-${field}-error`);
    if (key) {
      input.setAttribute('aria-invalid', 'true');
      if (message) message.textContent = t(key);
    } else {
      input.removeAttribute('aria-invalid');
      if (message) message.textContent = '';
    }
    input.closest('.field')?.classList.toggle('has-error', Boolean(key));
  }

  function clearFormErrors() {
    for (const field of FIELDS) setFieldError(field, null);
    fieldErrors = {};
    formShown = null;
    ui.formError.replaceChildren();
  }

  function renderFormError() {
    if (!formShown) {
      ui.formError.replaceChildren();
    } else if (formShown.error) {
      renderError(ui.formError, formShown.error, { context: 'createKey' });
    } else {
      const title = document.createElement('p');
      title.className = 'error-title';
      title.textContent = t(formShown.key);
      ui.formError.replaceChildren(title);
    }
  }

  /** The form's values as create_key wants them, or the problems per field. */
  function validate() {
    const problems = [];
    const phone = normalizePhone(inputs.msn.value);
    if (phone.problem) problems.push(['msn', `keyForm.msn.${phone.problem}`]);

    const now = Date.now();
    let start = null;
    const startText = inputs.start.value.trim();
    // A half-typed date in a date-time field reads as "": that must not quietly mean "now" or "no end".
    if (inputs.start.validity?.badInput) problems.push(['start', 'keyForm.start.invalid']);
    else if (startText) {
      const d = parseDateTimeInput(startText);
      if (!d) problems.push(['start', 'keyForm.start.invalid']);
      else if (d.getTime() > now + NOW_SLACK_MS) start = d;
    }
    let end = null;
    const endText = inputs.end.value.trim();
    if (inputs.end.validity?.badInput) problems.push(['end', 'keyForm.end.invalid']);
    else if (endText) {
      const d = parseDateTimeInput(endText);
      if (!d) problems.push(['end', 'keyForm.end.invalid']);
      else if (d.getTime() <= (start ? start.getTime() : now)) {
        problems.push(['end', start ? 'keyForm.end.beforeStart' : 'keyForm.end.past']);
      } else end = d;
    }
    const route = inputs.route.value.trim();
    return {
      problems,
      args: {
        lockId: lock.id,
        msn: phone.e164,
        start: start ? start.toISOString() : null,
        end: end ? end.toISOString() : null,
        route: route || null,
      },
    };
  }

  function setBusy(on) {
    busy = on;
    ui.submit.disabled = on;
    ui.cancel.disabled = on;
    ui.submit.classList.toggle('is-busy', on);
    ui.form.setAttribute('aria-busy', String(on));
    ui.submitLabel.textContent = t(on ? 'keyForm.submitting' : 'keyForm.submit');
    ui.formProgress.textContent = on ? t(isOptIn() ? 'keyForm.progressOptIn' : 'keyForm.progress') : '';
  }

  ui.form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy || !lock) return;
    clearFormErrors();
    const { problems, args } = validate();
    if (problems.length) {
      for (const [field, key] of problems) setFieldError(field, key);
      formShown = { key: problems.length === 1 ? problems[0][1] : 'keyForm.several' };
      renderFormError();
      inputs[problems[0][0]].focus();
      return;
    }
    // Show what will be sent: the number as people write it.
    inputs.msn.value = formatPhone(args.msn).text;
    const forLock = lock.id;
    setBusy(true);
    let key = null;
    let error = null;
    try {
      key = await createKey(args);
    } catch (err) {
      error = err;
    }
    if (destroyed) return;
    setBusy(false);
    if (lock?.id !== forLock) return;
    if (error) {
      if (shell.handleSignInError(error)) return;
      formShown = { error };
      renderFormError();
      const info = describeError(error, 'createKey');
      const field = info.kind === 'invalidInput' && inputs[info.field] ? info.field : null;
      if (field) {
        setFieldError(field, `error.invalidInput.${field}.title`);
        inputs[field].focus();
      } else {
        ui.formError.focus();
      }
      return;
    }
    const [stored] = mergeKeys([key]);
    closeForm({ focus: false });
    if (!rows.some((k) => k.id === stored?.id)) rebuild();
    const recipient = stored ? recipientInline(stored) : formatPhone(args.msn).text;
    const waiting = stored?.status === 'awaitingApproval' || (!stored && isOptIn());
    setNotice({ key: waiting ? 'keyForm.doneOptIn' : 'keyForm.done', params: { recipient }, tone: 'success' });
    setError(null);
    if (!(stored && focusKeyRow(stored.id))) ui.newKey.focus();
  });

  ui.newKey.addEventListener('click', () => openForm());
  ui.cancel.addEventListener('click', () => closeForm());
  inputs.msn.addEventListener('blur', () => {
    // "90000000" → "+47 900 00 000" once the field is left, so people see what will be used.
    const phone = normalizePhone(inputs.msn.value);
    if (phone.e164) inputs.msn.value = formatPhone(phone.e164).text;
  });
  for (const field of FIELDS) {
    inputs[field].addEventListener('input', () => {
      if (fieldErrors[field]) setFieldError(field, null);
    });
  }

  return {
    /** Another lock (or the same again): reset the form and notices, load its keys. */
    setLock(next) {
      const same = lock && lock.id === next.id;
      lock = next;
      if (!same) {
        seq += 1;
        loaded = false;
        checking = false;
        closeForm({ focus: false });
        setNotice(null);
        setError(null);
        rows = [];
        table.setRows([], { reset: true });
      }
      ui.warning.hidden = !isOptIn();
      renderList();
      load();
    },
    show() {
      visible = true;
      stopTick ??= everyMinute(() => table.refresh());
      if (dirty) rebuild();
    },
    hide() {
      visible = false;
      stopTick?.();
      stopTick = null;
    },
    /** F5 in the lock view: ask Unloc about this lock's keys. */
    refresh: () => check(),
    /** Esc inside the form closes it; returns true when it did something. */
    onEscape(e) {
      if (!ui.form.hidden && ui.form.contains(e.target)) {
        if (!busy) closeForm();
        return true;
      }
      return false;
    },
    applyLanguage() {
      table.refresh();
      renderList();
      renderNotice();
      if (shownError) renderError(ui.error, shownError.error, { context: shownError.context });
      if (!ui.form.hidden) {
        renderFormStatic();
        renderFormError();
        for (const [field, key] of Object.entries(fieldErrors)) if (key) setFieldError(field, key);
        setBusy(busy);
      }
    },
    destroy() {
      destroyed = true;
      unsubscribe();
      stopTick?.();
      table.destroy();
    },
  };
}
