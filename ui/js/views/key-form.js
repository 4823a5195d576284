// The "New key" form in the lock view (#key-form): the recipient's phone number, the window and the
// route, checked here before create_key (Rust checks again), with the owner-approval warning on
// opt-in locks. lock-keys.js owns it and hears of each key created.
// Markup: <form id="key-form"> inside <section id="lock-keys"> of <template id="tpl-lock"> in ui/index.html.

import { createKey } from '../ipc.js';
import { t } from '../i18n.js';
import { allPeople, personFor } from '../people-store.js';
import { describeError, renderError } from '../errors.js';
import {
  dateTimePlaceholder, formatPhone, normalizePhone, parseDateTimeInput, timeZoneLabel, toDateTimeInputValue,
} from '../format.js';

const FIELDS = ['msn', 'start', 'end', 'route'];
// A start this close to now (or earlier) is sent as "now" (null): the clock moves while the form is open.
const NOW_SLACK_MS = 60 * 1000;

export class KeyForm {
  /**
   * @param {object} shell
   * @param {HTMLElement} section  #lock-keys
   * @param {(key: object, args: object) => void} onCreated  create_key answered with this KeyView
   */
  constructor(shell, section, onCreated) {
    this.shell = shell;
    this.onCreated = onCreated;
    const q = (sel) => section.querySelector(sel);
    this.q = q;
    this.newKey = q('#new-key');
    this.form = q('#key-form');
    this.formError = q('#key-form-error');
    this.warning = q('#key-optin-warning');
    this.submitButton = q('#key-submit');
    this.submitLabel = q('#key-submit .button-label');
    this.cancel = q('#key-cancel');
    this.progress = q('#key-form-progress');
    this.zoneHint = q('[data-ref="zoneHint"]');
    this.inputs = { msn: q('#key-msn'), start: q('#key-start'), end: q('#key-end'), route: q('#key-route') };
    this.person = { field: q('[data-ref="personField"]'), select: q('#key-person'), match: q('#key-msn-person') };
    this.lock = null;
    this.busy = false;
    this.shown = null; // what #key-form-error shows: {error} or {key}
    this.fieldErrors = {}; // field → catalog key
    this.destroyed = false;
    this.wire();
  }

  wire() {
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.newKey.addEventListener('click', () => this.open());
    this.cancel.addEventListener('click', () => this.close());
    const msn = this.inputs.msn;
    // Picking a person from People fills in their number; a typed number shows whose it is.
    this.person.select.addEventListener('change', () => {
      const chosen = allPeople().find((p) => String(p.id) === this.person.select.value);
      if (chosen) msn.value = formatPhone(chosen.phone).text;
      this.setFieldError('msn', null);
      this.renderPersonMatch();
    });
    msn.addEventListener('input', () => this.renderPersonMatch());
    msn.addEventListener('blur', () => {
      // "90000000" → "+47 900 00 000" once the field is left, so people see what will be used.
      const phone = normalizePhone(msn.value);
      if (phone.e164) msn.value = formatPhone(phone.e164).text;
    });
    for (const field of FIELDS) {
      this.inputs[field].addEventListener('input', () => {
        if (this.fieldErrors[field]) this.setFieldError(field, null);
      });
    }
  }

  get isOpen() {
    return !this.form.hidden;
  }

  isOptIn() {
    return this.lock?.auth === 'opt-in';
  }

  setLock(lock) {
    this.lock = lock;
    this.warning.hidden = !this.isOptIn();
  }

  open() {
    if (!this.lock) return;
    if (this.isOpen) {
      this.inputs.msn.focus();
      return;
    }
    this.form.reset();
    this.clearErrors();
    this.inputs.start.value = toDateTimeInputValue(new Date());
    this.warning.hidden = !this.isOptIn();
    this.form.hidden = false;
    this.newKey.setAttribute('aria-expanded', 'true');
    this.renderStatic();
    this.inputs.msn.focus();
  }

  close({ focus = true } = {}) {
    if (!this.isOpen) return;
    this.form.hidden = true;
    this.newKey.setAttribute('aria-expanded', 'false');
    this.clearErrors();
    if (focus) this.newKey.focus();
  }

  /** Esc inside the form closes it; returns true when it did something. */
  onEscape(e) {
    if (!this.isOpen || !this.form.contains(e.target)) return false;
    if (!this.busy) this.close();
    return true;
  }

  /** The "Choose from People" list (hidden while People is empty), and whose number is typed. */
  renderPeople() {
    const people = allPeople();
    const { field, select } = this.person;
    field.hidden = people.length === 0;
    const first = new Option(t('keyForm.person.none'), '');
    const options = people.map((p) => new Option(t('people.namedPhone', { name: p.name, phone: formatPhone(p.phone).text }), String(p.id)));
    select.replaceChildren(first, ...options);
    this.renderPersonMatch();
  }

  renderPersonMatch() {
    const person = personFor(normalizePhone(this.inputs.msn.value).e164);
    this.person.match.textContent = person ? t('keyForm.person.match', { name: person.name }) : '';
    if (person) this.person.select.value = String(person.id);
    else if (this.person.select.value) this.person.select.value = '';
  }

  renderStatic() {
    this.renderPeople();
    this.zoneHint.textContent = t('keyForm.zone', { zone: timeZoneLabel() });
    // Text fields in the app's language (date-field.js says why): the placeholder shows the format.
    for (const field of ['start', 'end']) this.inputs[field].setAttribute('placeholder', dateTimePlaceholder());
  }

  setFieldError(field, key) {
    this.fieldErrors[field] = key;
    const input = this.inputs[field];
    const message = this.q(`#key-${field}-error`);
    if (key) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    if (message) message.textContent = key ? t(key) : '';
    input.closest('.field')?.classList.toggle('has-error', Boolean(key));
  }

  clearErrors() {
    for (const field of FIELDS) this.setFieldError(field, null);
    this.fieldErrors = {};
    this.shown = null;
    this.formError.replaceChildren();
  }

  renderError() {
    if (!this.shown) {
      this.formError.replaceChildren();
    } else if (this.shown.error) {
      renderError(this.formError, this.shown.error, { context: 'createKey' });
    } else {
      const title = document.createElement('p');
      title.className = 'error-title';
      title.textContent = t(this.shown.key);
      this.formError.replaceChildren(title);
    }
  }

  /** The form's values as create_key wants them, or the problems per field. */
  validate() {
    const { msn, start: startInput, end: endInput, route } = this.inputs;
    const problems = [];
    const phone = normalizePhone(msn.value);
    if (phone.problem) problems.push(['msn', `keyForm.msn.${phone.problem}`]);
    const now = Date.now();
    const start = readDate(startInput, 'start', problems);
    const startMs = start && start.getTime() > now + NOW_SLACK_MS ? start.getTime() : null;
    let end = readDate(endInput, 'end', problems);
    if (end && end.getTime() <= (startMs ?? now)) {
      problems.push(['end', startMs ? 'keyForm.end.beforeStart' : 'keyForm.end.past']);
      end = null;
    }
    return {
      problems,
      args: {
        lockId: this.lock.id,
        msn: phone.e164,
        start: startMs ? new Date(startMs).toISOString() : null,
        end: end ? end.toISOString() : null,
        route: route.value.trim() || null,
      },
    };
  }

  setBusy(on) {
    this.busy = on;
    this.submitButton.disabled = on;
    this.cancel.disabled = on;
    this.submitButton.classList.toggle('is-busy', on);
    this.form.setAttribute('aria-busy', String(on));
    this.submitLabel.textContent = t(on ? 'keyForm.submitting' : 'keyForm.submit');
    this.progress.textContent = on ? t(this.isOptIn() ? 'keyForm.progressOptIn' : 'keyForm.progress') : '';
  }

  async submit() {
    if (this.busy || !this.lock) return;
    this.clearErrors();
    const { problems, args } = this.validate();
    if (problems.length) {
      for (const [field, key] of problems) this.setFieldError(field, key);
      this.shown = { key: problems.length === 1 ? problems[0][1] : 'keyForm.several' };
      this.renderError();
      this.inputs[problems[0][0]].focus();
      return;
    }
    // Show what will be sent: the number as people write it.
    this.inputs.msn.value = formatPhone(args.msn).text;
    this.setBusy(true);
    let key = null;
    let error = null;
    try {
      key = await createKey(args);
    } catch (err) {
      error = err;
    }
    if (this.destroyed) return;
    this.setBusy(false);
    if (this.lock?.id !== args.lockId) return;
    if (error) this.failed(error);
    else this.onCreated(key, args);
  }

  failed(error) {
    if (this.shell.handleSignInError(error)) return;
    this.shown = { error };
    this.renderError();
    const info = describeError(error, 'createKey');
    const field = info.kind === 'invalidInput' && this.inputs[info.field] ? info.field : null;
    if (field) {
      this.setFieldError(field, `error.invalidInput.${field}.title`);
      this.inputs[field].focus();
    } else {
      this.formError.focus();
    }
  }

  applyLanguage() {
    if (!this.isOpen) return;
    this.renderStatic();
    this.renderError();
    for (const [field, key] of Object.entries(this.fieldErrors)) if (key) this.setFieldError(field, key);
    this.setBusy(this.busy);
  }
}

/** A date-time field's value as a Date, null when empty; a problem is added when it cannot be read. */
function readDate(input, field, problems) {
  const text = input.value.trim();
  if (!text) return null;
  const d = parseDateTimeInput(text);
  if (!d) problems.push([field, `keyForm.${field}.invalid`]);
  return d;
}
