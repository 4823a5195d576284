// Settings: the language (saved by set_language), the account in use, shortcuts, the version.

import * as ipc from '../ipc.js';
import { fromTemplate, t } from '../i18n.js';
import { renderError } from '../errors.js';

export function createSettingsView(shell) {
  const el = fromTemplate('tpl-settings');
  const q = (sel) => el.querySelector(sel);
  const ui = {
    heading: q('#settings-heading'),
    language: q('#language-select'),
    languageStatus: q('[data-ref="languageStatus"]'),
    languageError: q('[data-ref="languageError"]'),
    partnerId: q('[data-ref="partnerId"]'),
    apiBase: q('[data-ref="apiBase"]'),
    version: q('#app-version'),
    signOut: q('#settings-signout'),
  };
  let saving = false;
  let lastError = null;

  function renderAccount() {
    const session = shell.session;
    ui.partnerId.textContent = session?.partnerId ?? '';
    ui.apiBase.textContent = session?.apiBase || shell.startup?.defaultApiBase || '';
    ui.version.textContent = shell.startup?.version ?? '';
    ui.language.value = shell.settings.language ?? 'system';
  }

  function renderLanguageState() {
    ui.languageStatus.textContent = saving ? t('settings.language.saving') : '';
    if (lastError) renderError(ui.languageError, lastError, { context: 'settings' });
    else ui.languageError.replaceChildren();
  }

  ui.language.addEventListener('change', async () => {
    const wanted = ui.language.value;
    const before = shell.settings.language ?? 'system';
    saving = true;
    lastError = null;
    ui.language.setAttribute('aria-busy', 'true');
    renderLanguageState();
    try {
      const settings = await ipc.setLanguage(wanted);
      saving = false;
      shell.languageChanged(settings ?? { language: wanted });
    } catch (err) {
      saving = false;
      if (shell.handleSignInError(err)) return;
      lastError = err;
      ui.language.value = before;
    } finally {
      ui.language.removeAttribute('aria-busy');
    }
    renderLanguageState();
  });

  ui.signOut.addEventListener('click', () => shell.signOut());

  return {
    el,
    title: () => t('settings.heading'),
    show() {
      lastError = null;
      renderAccount();
      renderLanguageState();
      ui.heading.focus();
    },
    applyLanguage() {
      renderAccount();
      renderLanguageState();
    },
  };
}
