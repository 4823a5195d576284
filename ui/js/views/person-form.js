// The add / edit form of a person (name, phone, team or note), in the People view and on a person's
// page: checked here (the phone the key form's way, a number another person has), saved with
// save_person (Rust checks again), then remembered in the directory (people-store.js).
// Markup: <template id="tpl-person-form">, put where <form data-ref="personForm" data-id-prefix="…">
// stands in <template id="tpl-people"> and <template id="tpl-person">.

import { savePerson } from '../ipc.js';
import { fromTemplate, t } from '../i18n.js';
import { describeError, renderError } from '../errors.js';
import { formatPhone, normalizePhone } from '../format.js';
import { personFor, rememberPerson } from '../people-store.js';

const FIELDS = ['name', 'phone', 'note'];
const RUST_FIELDS = { personName: 'name', personPhone: 'phone', personNote: 'note' };
const ID_ATTRIBUTES = ['id', 'for', 'aria-describedby'];

/** The form from its template, in place of `slot`; "__" in its ids becomes the slot's data-id-prefix. */
function formInPlaceOf(slot) {
  const form = fromTemplate('tpl-person-form');
  const prefix = slot.dataset.idPrefix;
  for (const el of [form, ...form.querySelectorAll('*')]) {
    for (const name of ID_ATTRIBUTES) {
      const value = el.getAttribute(name);
      if (value?.includes('__-')) el.setAttribute(name, value.replaceAll('__-', `${prefix}-`));
    }
  }
  slot.replaceWith(form);
  return form;
}

export class PersonForm {
  /**
   * @param {object} shell
   * @param {HTMLFormElement} slot  where the form goes (its data-id-prefix names the form's ids)
   * @param {(person: object) => void} onSaved
   */
  constructor(shell, slot, onSaved) {
    const form = formInPlaceOf(slot);
    this.shell = shell;
    this.form = form;
    this.onSaved = onSaved;
    const q = (sel) => form.querySelector(sel);
    this.inputs = { name: q('[name="name"]'), phone: q('[name="phone"]'), note: q('[name="note"]') };
    this.errors = { name: q('[data-ref="nameError"]'), phone: q('[data-ref="phoneError"]'), note: q('[data-ref="noteError"]') };
    this.heading = q('[data-ref="formHeading"]');
    this.alert = q('[data-ref="formError"]');
    this.submit = q('[data-ref="save"]');
    this.person = null; // the one being edited, or null for a new one
    this.busy = false;
    this.shown = {}; // field → [key, params]
    this.error = null;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.save();
    });
    q('[data-ref="cancel"]').addEventListener('click', () => this.close());
    this.inputs.phone.addEventListener('blur', () => {
      const phone = normalizePhone(this.inputs.phone.value);
      if (phone.e164) this.inputs.phone.value = formatPhone(phone.e164).text;
    });
    for (const field of FIELDS) {
      this.inputs[field].addEventListener('input', () => this.setFieldError(field, null));
    }
  }

  get isOpen() {
    return !this.form.hidden;
  }

  /** Open empty (person null) or filled with a person to edit. */
  open(person = null) {
    this.person = person;
    this.form.reset();
    this.clearErrors();
    this.inputs.name.value = person?.name ?? '';
    this.inputs.phone.value = person ? formatPhone(person.phone).text : '';
    this.inputs.note.value = person?.note ?? '';
    this.form.hidden = false;
    this.render();
    this.inputs.name.focus();
  }

  close() {
    if (this.busy) return;
    this.form.hidden = true;
    this.clearErrors();
  }

  render() {
    this.heading.textContent = t(this.person ? 'people.form.editHeading' : 'people.form.addHeading');
    this.submit.disabled = this.busy;
    this.submit.classList.toggle('is-busy', this.busy);
    for (const field of FIELDS) this.setFieldError(field, this.shown[field] ?? null);
    if (this.error) renderError(this.alert, this.error, { context: 'savePerson' });
    else this.alert.replaceChildren();
  }

  setFieldError(field, said) {
    this.shown[field] = said;
    const input = this.inputs[field];
    if (said) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    this.errors[field].textContent = said ? t(said[0], said[1]) : '';
    input.closest('.field')?.classList.toggle('has-error', Boolean(said));
  }

  clearErrors() {
    for (const field of FIELDS) this.setFieldError(field, null);
    this.error = null;
    this.alert.replaceChildren();
  }

  /** The problems of what was typed, by field: [field, catalog key, params]. */
  problems() {
    const found = [];
    if (!this.inputs.name.value.trim()) found.push(['name', 'people.form.name.empty']);
    const phone = normalizePhone(this.inputs.phone.value);
    if (phone.problem) found.push(['phone', `keyForm.msn.${phone.problem}`]);
    const other = personFor(phone.e164);
    if (other && other.id !== this.person?.id) found.push(['phone', 'people.form.phone.taken', { name: other.name }]);
    return { found, e164: phone.e164 };
  }

  async save() {
    if (this.busy) return;
    this.clearErrors();
    const { found, e164 } = this.problems();
    if (found.length) {
      for (const [field, key, params] of found) this.setFieldError(field, [key, params]);
      this.inputs[found[0][0]].focus();
      return;
    }
    this.busy = true;
    this.render();
    const args = { id: this.person?.id ?? null, name: this.inputs.name.value, phone: e164, note: this.inputs.note.value };
    let saved = null;
    try {
      saved = await savePerson(args);
    } catch (err) {
      this.error = err;
    }
    this.busy = false;
    if (this.error) return this.failed();
    rememberPerson(saved);
    this.form.hidden = true;
    this.onSaved(saved);
  }

  failed() {
    if (this.shell.handleSignInError(this.error)) return;
    const info = describeError(this.error, 'savePerson');
    const field = RUST_FIELDS[this.error.field];
    this.render();
    if (info.kind === 'invalidInput' && field) this.inputs[field].focus();
    else this.alert.focus();
  }

  applyLanguage() {
    if (this.isOpen) this.render();
  }
}
