// Sign-in: partner id + API token (+ API address under "Advanced"), checked with Unloc by sign_in.

import * as ipc from '../ipc.js';
import { fromTemplate, t } from '../i18n.js';
import { describeError, renderError } from '../errors.js';

const FIELD_INPUT = { partnerId: 'partner-id', token: 'api-token', apiBase: 'api-base' };

export function createSignInView(shell) {
  const el = fromTemplate('tpl-signin');
  const q = (sel) => el.querySelector(sel);
  const form = q('#signin-form');
  const inputs = { partnerId: q('#partner-id'), token: q('#api-token'), apiBase: q('#api-base') };
  const errorBox = q('#signin-error');
  const submit = q('#signin-submit');
  const submitLabel = submit.querySelector('.button-label');
  const progress = q('#signin-progress');
  const advanced = q('#signin-advanced');
  const envHint = q('#api-token-env');
  let busy = false;
  let shown = null; // what the error box shows, to re-render it in another language
  let fieldErrors = {}; // field → catalog key

  function tokenFromEnvironment() {
    return Boolean(shell.startup?.tokenFromEnvironment);
  }

  function setFieldError(field, key) {
    fieldErrors[field] = key;
    const input = inputs[field];
    const message = q(`#${FIELD_INPUT[field]}-error`);
    if (key) {
      input.setAttribute('aria-invalid', 'true');
      message.textContent = t(key);
    } else {
      input.removeAttribute('aria-invalid');
      message.textContent = '';
    }
    input.closest('.field').classList.toggle('has-error', Boolean(key));
  }

  function clearErrors() {
    for (const field of Object.keys(inputs)) setFieldError(field, null);
    fieldErrors = {};
    shown = null;
    errorBox.replaceChildren();
  }

  function renderShown() {
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
  function showError(error, context = 'signin') {
    shown = { error, context };
    renderShown();
    const info = describeError(error, context);
    if (info.kind === 'unauthorized' || info.kind === 'notSignedIn') inputs.token.value = '';
    const field = info.field && inputs[info.field] ? info.field : null;
    if (field && info.kind === 'invalidInput') setFieldError(field, `error.invalidInput.${field}.title`);
    if (field === 'apiBase') advanced.open = true;
    return field;
  }

  function setBusy(on) {
    busy = on;
    submit.disabled = on;
    submit.classList.toggle('is-busy', on);
    form.setAttribute('aria-busy', String(on));
    submitLabel.textContent = t(on ? 'signin.submitting' : 'signin.submit');
    progress.textContent = on ? t('signin.progress') : '';
  }

  function validate() {
    const partnerId = inputs.partnerId.value.trim();
    const token = inputs.token.value.trim();
    const apiBase = inputs.apiBase.value.trim();
    const problems = [];
    if (!partnerId) problems.push(['partnerId', 'signin.validation.partnerIdEmpty']);
    else if (/\s/.test(partnerId)) problems.push(['partnerId', 'signin.validation.partnerIdSpaces']);
    if (!token && !tokenFromEnvironment()) problems.push(['token', 'signin.validation.tokenEmpty']);
    if (apiBase && !isHttpUrl(apiBase)) problems.push(['apiBase', 'signin.validation.apiBaseInvalid']);
    return { partnerId, token, apiBase, problems };
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    clearErrors();
    const { partnerId, token, apiBase, problems } = validate();
    if (problems.length) {
      for (const [field, key] of problems) setFieldError(field, key);
      shown = { key: problems.length === 1 ? problems[0][1] : 'signin.validation.several' };
      renderShown();
      const [first] = problems[0];
      if (first === 'apiBase') advanced.open = true;
      inputs[first].focus();
      return;
    }
    inputs.partnerId.value = partnerId;
    setBusy(true);
    let session;
    try {
      session = await ipc.signIn({ partnerId, token, apiBase });
    } catch (err) {
      setBusy(false);
      const field = showError(err);
      if (field) inputs[field].focus();
      else errorBox.focus();
      return;
    }
    setBusy(false);
    inputs.token.value = '';
    clearErrors();
    shell.signedIn(session);
  });

  // Typing in a marked field takes its mark away.
  for (const [field, input] of Object.entries(inputs)) {
    input.addEventListener('input', () => {
      if (fieldErrors[field]) setFieldError(field, null);
    });
  }

  return {
    el,
    title: () => t('signin.heading'),
    show({ partnerId, apiBase, error, context } = {}) {
      const startup = shell.startup;
      if (partnerId !== undefined && partnerId !== null) inputs.partnerId.value = partnerId;
      if (apiBase && !inputs.apiBase.value) inputs.apiBase.value = apiBase;
      inputs.apiBase.placeholder = startup?.defaultApiBase ?? '';
      if (inputs.apiBase.value) advanced.open = true;
      inputs.token.value = '';
      envHint.hidden = !tokenFromEnvironment();
      setBusy(false);
      clearErrors();
      let target = inputs.partnerId.value ? inputs.token : inputs.partnerId;
      if (error) {
        const field = showError(error, context);
        target = field ? inputs[field] : errorBox;
      }
      target.focus();
    },
    hide() {
      inputs.token.value = '';
    },
    applyLanguage() {
      submitLabel.textContent = t(busy ? 'signin.submitting' : 'signin.submit');
      if (busy) progress.textContent = t('signin.progress');
      for (const [field, key] of Object.entries(fieldErrors)) if (key) setFieldError(field, key);
      renderShown();
    },
  };
}

function isHttpUrl(text) {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && Boolean(url.host);
  } catch {
    return false;
  }
}
