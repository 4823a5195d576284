// Settings → Team: where the office's shared database is, "Test connection" and Save.
// Markup: the #team-settings card in <template id="tpl-settings"> (ui/index.html).
// The password goes from the field to Rust only (it keeps it in the keychain); no reply carries it
// back, so the field says whether one is saved instead.

import * as ipc from '../ipc.js';
import { t } from '../i18n.js';
import { renderError, supportCopy } from '../errors.js';

const DEFAULT_PORT = 5432;

// TeamCheck outcomes with words of their own (team.problem.<kind>); anything else reads as `other`.
const PROBLEMS = new Set([
  'invalidSettings', 'tlsRequired', 'tlsRequiredByServer', 'tlsNotOffered', 'certificateNotTrusted',
  'caFileUnreadable', 'unreachable', 'wrongPassword', 'passwordMissing', 'databaseMissing', 'noRights',
  'notAllowedFromHere', 'schemaNewer', 'other',
]);

/**
 * Wires the card inside the settings view's element; returns {show, applyLanguage}. onSharingChanged(settings
 * or null) hears the team settings each time they are loaded or saved.
 */
export function wireTeamSettings(el, onSharingChanged) {
  const q = (sel) => el.querySelector(sel);
  const ui = {
    enabled: q('#team-enabled'), form: q('#team-form'), host: q('#team-host'), port: q('#team-port'),
    database: q('#team-database'), user: q('#team-user'), password: q('#team-password'),
    passwordHint: q('#team-password-hint'), tls: q('#team-tls'), caFile: q('#team-ca-file'), yourName: q('#team-your-name'),
    test: q('#team-test'), save: q('#team-save'), status: q('#team-status'), error: q('#team-error'),
  };
  // busy: 'testing' | 'saving' | null; result: {status, ok?} | {problem, detail} | {error} | null
  const card = { ui, passwordSaved: false, busy: null, result: null, onSharingChanged };
  ui.enabled.addEventListener('change', () => {
    card.result = null;
    render(card);
  });
  ui.test.addEventListener('click', () => run(card, 'testing', () => testConnection(card)));
  ui.save.addEventListener('click', () => run(card, 'saving', () => save(card)));
  return { show: () => show(card), applyLanguage: () => render(card) };
}

async function show(card) {
  card.result = null;
  try {
    take(card, await ipc.getTeamSettings());
  } catch (err) {
    card.result = { error: err };
  }
  render(card);
}

async function testConnection({ ui }) {
  const check = await ipc.testTeamConnection(formSettings(ui), ui.password.value);
  if (check.outcome === 'ok') return { ok: true, status: t('settings.team.ok', { version: check.schemaVersion }) };
  return { problem: check.outcome, detail: check.detail };
}

async function save(card) {
  const sharing = card.ui.enabled.checked;
  const view = await ipc.saveTeamSettings(sharing ? formSettings(card.ui) : null, sharing ? card.ui.password.value : null);
  take(card, view);
  return { status: t(sharing ? 'settings.team.saved' : 'settings.team.stopped') };
}

async function run(card, kind, work) {
  card.busy = kind;
  card.result = null;
  render(card);
  try {
    card.result = await work();
  } catch (err) {
    // Settings the app refuses before connecting come back with the problem as the field.
    card.result = err?.kind === 'invalidInput' && err.field ? { problem: err.field, detail: err.message } : { error: err };
  }
  card.busy = null;
  render(card);
}

function formSettings(ui) {
  const port = Number.parseInt(ui.port.value.trim(), 10);
  return {
    host: ui.host.value.trim(),
    port: Number.isInteger(port) && port > 0 && port < 65536 ? port : 0,
    database: ui.database.value.trim(),
    user: ui.user.value.trim(),
    tls: ui.tls.value === 'off' ? 'off' : 'verify-full',
    caFile: ui.caFile.value.trim() || null,
    yourName: ui.yourName.value.trim() || null,
  };
}

/** The team settings as the app now has them: in the form, and told to the rest of Settings. */
function take(card, view) {
  fill(card, view);
  card.onSharingChanged(view?.settings ?? null);
}

function fill(card, view) {
  const { ui } = card;
  const settings = view?.settings;
  card.passwordSaved = Boolean(view?.passwordSaved);
  ui.enabled.checked = Boolean(settings);
  ui.host.value = settings?.host ?? '';
  ui.port.value = String(settings?.port ?? DEFAULT_PORT);
  ui.database.value = settings?.database ?? '';
  ui.user.value = settings?.user ?? '';
  ui.tls.value = settings?.tls ?? 'verify-full';
  ui.caFile.value = settings?.caFile ?? '';
  ui.yourName.value = settings?.yourName ?? '';
  ui.password.value = '';
}

function render({ ui, passwordSaved, busy, result }) {
  ui.form.hidden = !ui.enabled.checked;
  ui.test.hidden = !ui.enabled.checked;
  ui.passwordHint.textContent = t(passwordSaved ? 'settings.team.password.saved' : 'settings.team.password.hint');
  for (const button of [ui.test, ui.save]) button.disabled = Boolean(busy);
  ui.status.classList.toggle('team-ok', Boolean(result?.ok));
  if (busy) ui.status.textContent = t(busy === 'testing' ? 'settings.team.testing' : 'settings.team.saving');
  else ui.status.textContent = result?.status ?? '';
  ui.error.replaceChildren();
  if (result?.problem) renderProblem(ui.error, result.problem, result.detail);
  if (result?.error) renderError(ui.error, result.error, { context: 'settings' });
}

/** A team database problem in words (team.problem.<kind>), with its detail copyable for support. */
function renderProblem(container, kind, detail) {
  const key = PROBLEMS.has(kind) ? kind : 'other';
  const title = document.createElement('p');
  title.className = 'error-title';
  title.textContent = t(`team.problem.${key}.title`);
  const action = document.createElement('p');
  action.className = 'error-action';
  action.textContent = t(`team.problem.${key}.action`);
  const buttons = document.createElement('p');
  buttons.className = 'error-buttons';
  buttons.append(...supportCopy({ details: detail ? `team ${kind}: ${detail}` : '' }));
  container.replaceChildren(title, action, ...(buttons.childElementCount ? [buttons] : []));
}
