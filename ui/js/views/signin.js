// Sign-in: partner id + API token (+ API address under "Advanced"), checked with Unloc by sign_in.
// Markup: <template id="tpl-signin"> in ui/index.html (section #signin-view).

import * as ipc from '../ipc.js';
import { fromTemplate, t } from '../i18n.js';
import { describeError, renderError } from '../errors.js';

const TEMPLATE = 'tpl-signin';
const FIELD_INPUT = { partnerId: 'partner-id', token: 'api-token', apiBase: 'api-base' };

export function createSignInView(shell) {
  return new SignInView(shell);
}

class SignInView {
  constructor(shell) {
    this.shell = shell;
    this.el = fromTemplate(TEMPLATE);
    const q = (sel) => this.el.querySelector(sel);
    this.q = q;
    this.form = q('#signin-form');
    this.inputs = { partnerId: q('#partner-id'), token: q('#api-token'), apiBase: q('#api-base') };
    this.errorBox = q('#signin-error');
    this.submitButton = q('#signin-submit');
    this.submitLabel = this.submitButton.querySelector('.button-label');
    this.progress = q('#signin-progress');
    this.advanced = q('#signin-advanced');
    this.envHint = q('#api-token-env');
    this.busy = false;
    this.shown = null; // what the error box shows, to re-render it in another language
    this.fieldErrors = {}; // field → catalog key
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    // Typing in a marked field takes its mark away.
    for (const [field, input] of Object.entries(this.inputs)) {
      input.addEventListener('input', () => {
        if (this.fieldErrors[field]) this.setFieldError(field, null);
      });
    }
  }

  tokenFromEnvironment() {
    return Boolean(this.shell.startup?.tokenFromEnvironment);
  }

  setFieldError(field, key) {
    this.fieldErrors[field] = key;
    const input = this.inputs[field];
    const message = this.q(`#${FIELD_INPUT[field]}-error`);
    if (key) {
      input.setAttribute('aria-invalid', 'true');
      message.textContent = t(key);
    } else {
      input.removeAttribute('aria-invalid');
      message.textContent = '';
    }
    input.closest('.field').classList.toggle('has-error', Boolean(key));
  }

  clearErrors() {
    for (const field of Object.keys(this.inputs)) this.setFieldError(field, null);
    this.fieldErrors = {};
    this.shown = null;
    this.errorBox.replaceChildren();
  }

  renderShown() {
    const { shown, errorBox } = this;
    if (!shown) {
      errorBox.replaceChildren();
    } else if (shown.error) {
      renderError(errorBox, shown.error, { context: shown.context });
    } else {
      const title = document.createElement('p');
      title.className = 'error-title';
      title.textContent = t(shown.key);
      errorBox.replaceChildren(title);
    }
  }

  /** Show an AppError: catalog text in the alert, the field marked, focus where it helps. */
  showError(error, context = 'signin') {
    this.shown = { error, context };
    this.renderShown();
    const info = describeError(error, context);
    if (info.kind === 'unauthorized' || info.kind === 'notSignedIn') this.inputs.token.value = '';
    const field = info.field && this.inputs[info.field] ? info.field : null;
    if (field && info.kind === 'invalidInput') this.setFieldError(field, `error.invalidInput.${field}.title`);
    if (field === 'apiBase') this.advanced.open = true;
    return field;
  }

  setBusy(on) {
    this.busy = on;
    this.submitButton.disabled = on;
    this.submitButton.classList.toggle('is-busy', on);
    this.form.setAttribute('aria-busy', String(on));
    this.submitLabel.textContent = t(on ? 'signin.submitting' : 'signin.submit');
    this.progress.textContent = on ? t('signin.progress') : '';
  }

  validate() {
    const partnerId = this.inputs.partnerId.value.trim();
    const token = this.inputs.token.value.trim();
    const apiBase = this.inputs.apiBase.value.trim();
    const problems = [];
    if (!partnerId) problems.push(['partnerId', 'signin.validation.partnerIdEmpty']);
    else if (/\s/.test(partnerId)) problems.push(['partnerId', 'signin.validation.partnerIdSpaces']);
    if (!token && !this.tokenFromEnvironment()) problems.push(['token', 'signin.validation.tokenEmpty']);
    if (apiBase && !isHttpUrl(apiBase)) problems.push(['apiBase', 'signin.validation.apiBaseInvalid']);
    return { partnerId, token, apiBase, problems };
  }

  async submit() {
    if (this.busy) return;
    this.clearErrors();
    const { partnerId, token, apiBase, problems } = this.validate();
    if (problems.length) {
      for (const [field, key] of problems) this.setFieldError(field, key);
      this.shown = { key: problems.length === 1 ? problems[0][1] : 'signin.validation.several' };
      this.renderShown();
      const [first] = problems[0];
      if (first === 'apiBase') this.advanced.open = true;
      this.inputs[first].focus();
      return;
    }
    this.inputs.partnerId.value = partnerId;
    this.setBusy(true);
    let session;
    try {
      session = await ipc.signIn({ partnerId, token, apiBase });
    } catch (err) {
      this.setBusy(false);
      const field = this.showError(err);
      if (field) this.inputs[field].focus();
      else this.errorBox.focus();
      return;
    }
    this.setBusy(false);
    this.inputs.token.value = '';
    this.clearErrors();
    this.shell.signedIn(session);
  }

  title() {
    return t('signin.heading');
  }

  show({ partnerId, apiBase, error, context } = {}) {
    const { inputs } = this;
    if (partnerId !== undefined && partnerId !== null) inputs.partnerId.value = partnerId;
    if (apiBase && !inputs.apiBase.value) inputs.apiBase.value = apiBase;
    inputs.apiBase.placeholder = this.shell.startup?.defaultApiBase ?? '';
    if (inputs.apiBase.value) this.advanced.open = true;
    inputs.token.value = '';
    this.envHint.hidden = !this.tokenFromEnvironment();
    this.setBusy(false);
    this.clearErrors();
    let target = inputs.partnerId.value ? inputs.token : inputs.partnerId;
    if (error) {
      const field = this.showError(error, context);
      target = field ? inputs[field] : this.errorBox;
    }
    target.focus();
  }

  hide() {
    this.inputs.token.value = '';
  }

  applyLanguage() {
    this.submitLabel.textContent = t(this.busy ? 'signin.submitting' : 'signin.submit');
    if (this.busy) this.progress.textContent = t('signin.progress');
    for (const [field, key] of Object.entries(this.fieldErrors)) if (key) this.setFieldError(field, key);
    this.renderShown();
  }
}

function isHttpUrl(text) {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && Boolean(url.host);
  } catch {
    return false;
  }
}
