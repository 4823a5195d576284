// "Import from file…" in People: the OS open dialog (choose_import_file), a preview of what the file
// would add and which rows are skipped and why (preview_people_import), then one import of every
// good row (import_people: all or nothing) and its report.
// Markup: [data-ref="importPanel"] in <template id="tpl-people"> in ui/index.html.

import { chooseImportFile, importPeople, previewPeopleImport } from '../ipc.js';
import { t, tn } from '../i18n.js';
import { renderError } from '../errors.js';
import { formatNumber, formatPhone } from '../format.js';
import { reloadPeople } from '../people-store.js';

export class PeopleImport {
  /**
   * @param {object} shell
   * @param {HTMLElement} panel
   * @param {() => void} onImported  the directory changed
   */
  constructor(shell, panel, onImported) {
    this.shell = shell;
    this.panel = panel;
    this.onImported = onImported;
    const q = (sel) => panel.querySelector(sel);
    this.ui = {
      heading: q('[data-ref="importHeading"]'),
      progress: q('[data-ref="importProgress"]'),
      error: q('[data-ref="importError"]'),
      summary: q('[data-ref="importSummary"]'),
      sample: q('[data-ref="importSample"]'),
      skippedHeading: q('[data-ref="skippedHeading"]'),
      skipped: q('[data-ref="importSkipped"]'),
      confirm: q('[data-ref="importConfirm"]'),
      cancel: q('[data-ref="importCancel"]'),
    };
    this.state = { step: 'idle' }; // idle | choosing | reading | preview | importing | done | failed
    this.ui.confirm.addEventListener('click', () => this.importNow());
    this.ui.cancel.addEventListener('click', () => this.close());
  }

  /** The OS dialog, then the preview of the chosen file. */
  async start() {
    if (this.state.step === 'choosing' || this.state.step === 'reading' || this.state.step === 'importing') return;
    this.set({ step: 'choosing' });
    let path = null;
    try {
      path = await chooseImportFile();
    } catch (err) {
      return this.fail(err);
    }
    if (!path) return this.close();
    await this.preview(path);
  }

  /** Reads the file at path and shows what importing it would do. */
  async preview(path) {
    this.set({ step: 'reading', path });
    try {
      this.set({ step: 'preview', path, result: await previewPeopleImport(path) });
      this.ui.confirm.focus();
    } catch (err) {
      this.fail(err);
    }
  }

  async importNow() {
    const { path, step } = this.state;
    if (step !== 'preview') return;
    this.set({ ...this.state, step: 'importing' });
    try {
      const result = await importPeople(path);
      await reloadPeople().catch(() => {});
      this.set({ step: 'done', path, result });
      this.onImported();
      this.ui.summary.focus();
    } catch (err) {
      this.fail(err);
    }
  }

  fail(error) {
    if (this.shell.handleSignInError(error)) return;
    this.set({ step: 'failed', error });
    this.ui.error.focus();
  }

  close() {
    if (this.state.step === 'importing') return;
    this.set({ step: 'idle' });
  }

  set(state) {
    this.state = state;
    this.render();
  }

  render() {
    const { step, result, error } = this.state;
    const { ui } = this;
    this.panel.hidden = step === 'idle';
    this.panel.setAttribute('data-step', step);
    ui.heading.textContent = result ? t('people.import.headingFile', { file: result.fileName }) : t('people.import.heading');
    ui.progress.textContent = { choosing: t('people.import.choosing'), reading: t('people.import.reading'), importing: t('people.import.importing') }[step] ?? '';
    if (error) renderError(ui.error, error, { context: 'importPeople', onRetry: () => this.start() });
    else ui.error.replaceChildren();
    ui.summary.textContent = result ? summaryText(step, result) : '';
    renderSample(ui.sample, step === 'preview' || step === 'importing' ? result : null);
    renderSkipped(ui.skippedHeading, ui.skipped, result);
    ui.confirm.hidden = !(step === 'preview' || step === 'importing') || !result?.ready;
    ui.confirm.disabled = step === 'importing';
    ui.confirm.textContent = result ? tn('people.import.confirm', result.ready, { count: formatNumber(result.ready) }) : '';
    ui.cancel.textContent = t(step === 'done' || step === 'failed' ? 'action.close' : 'action.cancel');
  }
}

function summaryText(step, result) {
  const params = { rows: formatNumber(result.rows), ready: formatNumber(result.ready), imported: formatNumber(result.imported), skipped: formatNumber(result.skippedCount) };
  if (step === 'done') return `${tn('people.import.done', result.imported, params)} ${tn('people.import.skippedCount', result.skippedCount, params)}`;
  if (!result.ready) return `${t('people.import.nothing')} ${tn('people.import.skippedCount', result.skippedCount, params)}`;
  return `${tn('people.import.ready', result.ready, params)} ${tn('people.import.skippedCount', result.skippedCount, params)}`;
}

function renderSample(table, result) {
  table.hidden = !result?.sample?.length;
  const rows = (result?.sample ?? []).map((row) => {
    const tr = document.createElement('tr');
    for (const text of [formatNumber(row.row), row.name, formatPhone(row.phone).text, row.note ?? '']) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
}

function renderSkipped(heading, list, result) {
  const skipped = result?.skipped ?? [];
  heading.hidden = skipped.length === 0;
  heading.textContent = tn('people.import.skippedHeading', result?.skippedCount ?? 0, { count: formatNumber(result?.skippedCount ?? 0) });
  list.hidden = skipped.length === 0;
  list.replaceChildren(
    ...skipped.map((skip) => {
      const li = document.createElement('li');
      li.setAttribute('data-reason', skip.reason);
      li.setAttribute('data-row', String(skip.row));
      li.textContent = t('people.import.skippedRow', { row: formatNumber(skip.row), why: reasonText(skip) });
      return li;
    }),
  );
  if (result && result.skippedCount > skipped.length) {
    const more = document.createElement('li');
    more.textContent = tn('people.import.moreSkipped', result.skippedCount - skipped.length, { count: formatNumber(result.skippedCount - skipped.length) });
    list.append(more);
  }
}

function reasonText(skip) {
  const params = { phone: skip.phone, detail: skip.detail ?? '' };
  if (skip.reason === 'invalidPhone') params.problem = t(`keyForm.msn.${skip.detail}`);
  const known = ['missingName', 'missingPhone', 'invalidPhone', 'duplicate', 'alreadyListed', 'invalidText'];
  return t(`people.import.reason.${known.includes(skip.reason) ? skip.reason : 'other'}`, params);
}
