// Settings: the language (saved by set_language), the account in use, the team database
// (team-settings.js), shortcuts, the version, updates.
// Markup: <template id="tpl-settings"> in ui/index.html (section #settings-view).

import * as ipc from '../ipc.js';
import { fromTemplate, t } from '../i18n.js';
import { renderError } from '../errors.js';
import { openShortcuts } from '../shortcuts.js';
import { confirmAction } from '../confirm.js';
import { checkNow, installOffered, offeredUpdate, onUpdateOffer } from '../updates.js';
import { wireTeamSettings } from './team-settings.js';

const TEMPLATE = 'tpl-settings';

export function createSettingsView(shell) {
  const el = fromTemplate(TEMPLATE);
  const ui = settingsParts(el);
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

  async function saveLanguage() {
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
  }

  ui.language.addEventListener('change', () => saveLanguage());
  ui.signOut.addEventListener('click', () => shell.signOut());
  ui.shortcuts.addEventListener('click', () => openShortcuts());

  const renderUpdate = wireUpdates(ui);
  const renderHistory = wireHistory(ui, shell);
  // Sharing started or stopped here: the history card's office line and its second question follow at once.
  const team = wireTeamSettings(el, (teamSettings) => {
    shell.settingsChanged({ team: teamSettings });
    renderHistory(false);
  });
  const renderAll = () =>
    [renderAccount, renderLanguageState, renderUpdate, team.applyLanguage, () => renderHistory(false)].forEach((fn) => fn());

  return {
    el,
    title: () => t('settings.heading'),
    show() {
      lastError = null;
      renderAll();
      renderHistory(true);
      team.show();
      ui.heading.focus();
    },
    applyLanguage: renderAll,
  };
}

/** The parts of the settings view the code reads or fills. */
function settingsParts(el) {
  const q = (sel) => el.querySelector(sel);
  return {
    heading: q('#settings-heading'),
    language: q('#language-select'),
    languageStatus: q('[data-ref="languageStatus"]'),
    languageError: q('[data-ref="languageError"]'),
    partnerId: q('[data-ref="partnerId"]'),
    apiBase: q('[data-ref="apiBase"]'),
    version: q('#app-version'),
    signOut: q('#settings-signout'),
    shortcuts: q('#settings-shortcuts'),
    updateStatus: q('#update-status'),
    updateError: q('#update-error'),
    updateCheck: q('#update-check'),
    updateInstall: q('#update-install'),
    keepHistory: q('#keep-history'),
    historyStatus: q('[data-ref="historyStatus"]'),
    historyError: q('[data-ref="historyError"]'),
    deleteHistory: q('#delete-history'),
    officeHint: q('#keep-history-office'),
  };
}

/** The update part of "About": check on request, install only when the user presses the button. Returns its render. */
function wireUpdates(ui) {
  let updateBusy = null; // 'checking' | 'installing' | null
  let updateChecked = false;
  let updateError = null;

  function renderUpdate() {
    const offer = offeredUpdate();
    let status = '';
    if (updateBusy === 'checking') status = t('settings.update.checking');
    else if (updateBusy === 'installing') status = t('settings.update.installing');
    else if (offer) status = t('settings.update.available', { version: offer.version });
    else if (updateChecked && !updateError) status = t('settings.update.upToDate');
    ui.updateStatus.textContent = status;
    ui.updateInstall.hidden = !offer;
    ui.updateCheck.disabled = Boolean(updateBusy);
    ui.updateInstall.disabled = Boolean(updateBusy);
    if (updateError) renderError(ui.updateError, updateError, { context: 'update' });
    else ui.updateError.replaceChildren();
  }

  ui.updateCheck.addEventListener('click', async () => {
    updateBusy = 'checking';
    updateError = null;
    renderUpdate();
    try {
      await checkNow();
      updateChecked = true;
    } catch (err) {
      updateError = err;
    }
    updateBusy = null;
    renderUpdate();
  });

  ui.updateInstall.addEventListener('click', async () => {
    updateBusy = 'installing';
    updateError = null;
    renderUpdate();
    try {
      await installOffered(); // on success the app restarts into the new version
    } catch (err) {
      updateError = err;
    }
    updateBusy = null;
    renderUpdate();
  });

  onUpdateOffer(renderUpdate);
  return renderUpdate;
}

/**
 * "Keep history for" (saved by set_keep_history; older events are deleted at once) and "Delete all
 * local history" behind a confirmation. Returns its render (fresh: forget the last status line).
 */
function wireHistory(ui, shell) {
  let status = '';
  let error = null;

  function render(fresh) {
    if (fresh) {
      status = '';
      error = null;
    }
    const months = shell.settings.keepHistoryMonths;
    ui.keepHistory.value = months === null ? 'forever' : String(months ?? 12);
    ui.officeHint.hidden = !shell.settings.team;
    ui.historyStatus.textContent = status;
    if (error) renderError(ui.historyError, error, { context: 'settings' });
    else ui.historyError.replaceChildren();
  }

  async function act(work, done) {
    error = null;
    status = t('settings.history.saving');
    render(false);
    try {
      const answer = await work();
      status = typeof done === 'function' ? done(answer) : done;
    } catch (err) {
      if (shell.handleSignInError(err)) return;
      status = '';
      error = err;
    }
    render(false);
  }

  ui.keepHistory.addEventListener('change', () => {
    const months = ui.keepHistory.value === 'forever' ? null : Number(ui.keepHistory.value);
    act(async () => shell.settingsChanged(await ipc.setKeepHistory(months)), t('settings.history.saved'));
  });
  ui.deleteHistory.addEventListener('click', async () => {
    const sure = await confirmAction({
      title: t('settings.history.confirm.title'),
      body: t('settings.history.confirm.text'),
      yesLabel: t('settings.history.confirm.yes'),
      danger: true,
    });
    if (!sure) return;
    // Team mode: the office's shared copy is another question, asked apart (it is every desk's).
    const alsoOffice = Boolean(shell.settings.team) && (await confirmAction({
      title: t('settings.history.office.title'),
      body: t('settings.history.office.text'),
      yesLabel: t('settings.history.office.yes'),
      noLabel: t('settings.history.office.no'),
      danger: true,
    }));
    const doneText = (office) => (office === true ? t('settings.history.deletedOffice')
      : office === false ? t('settings.history.officeNotDeleted') : t('settings.history.deleted'));
    act(() => ipc.deleteLocalHistory(alsoOffice), doneText);
  });
  return render;
}
