// "Visits per customer": for a chosen month, per lock (customer) and person, how many times the
// person unlocked it and when first and last — from the local archive (visits_report), in the
// computer's time zone. Export writes the same rows (export_visits); Print lays them out under the
// month (print.css). Reached from Activity; Back returns there.
// Markup: <template id="tpl-visits"> in ui/index.html (section #visits-view).

import * as ipc from '../ipc.js';
import { fromTemplate, intlLocales, t, tn } from '../i18n.js';
import { renderError } from '../errors.js';
import { formatDateTime, formatDateTimeLong, formatNumber, formatPhone } from '../format.js';
import { ListView } from './list-view.js';
import { listPrint, wireExport } from './export-actions.js';

const TEMPLATE = 'tpl-visits';
const ROW_HEIGHT = 40;
// The month picker offers this month and the ones before it (the longest "Keep history for" is 24).
const MONTHS_OFFERED = 25;

export function createVisitsView(shell) {
  return new VisitsView(shell);
}

/** "2026-11" for the month `back` months before the one `now` is in. */
export function monthValue(now, back = 0) {
  const date = new Date(now.getFullYear(), now.getMonth() - back, 1);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}`;
}

/** "November 2026" / "november 2026" for "2026-11", in the app's language. */
export function monthLabel(value, locales) {
  const [year, month] = value.split('-').map(Number);
  return new Intl.DateTimeFormat(locales, { month: 'long', year: 'numeric' }).format(new Date(year, month - 1, 1));
}

class VisitsView {
  constructor(shell) {
    this.shell = shell;
    this.el = fromTemplate(TEMPLATE);
    const q = (sel) => this.el.querySelector(sel);
    this.heading = q('#visits-heading');
    this.month = q('#visits-month');
    this.error = q('[data-ref="error"]');
    this.asked = 0; // the latest report asked for: older answers are dropped
    this.list = new ListView({
      el: this.el,
      rowHeight: ROW_HEIGHT,
      columns: COLUMNS,
      row: (tr, row) => {
        tr.setAttribute('data-lock-id', row.lockId);
        tr.classList.toggle('is-same-lock', row.sameLock);
      },
      count: { el: q('#visits-count'), text: () => this.countText() },
      empty: {
        id: 'visits-empty',
        none: () => ({ title: t('visits.empty.title', { month: this.monthText() }), text: t('visits.empty.text') }),
      },
    });
    this.exporter = wireExport(this.el, {
      fileName: () => t('export.name.visits', { month: this.month.value }),
      run: (request) => ipc.exportVisits({ month: this.month.value, ...request }),
      print: () =>
        listPrint({ title: `${t('visits.heading')} – ${this.monthText()}`, filter: `${this.monthText()} · ${this.countText()}`, list: this.list }),
    });
    q('#visits-back').addEventListener('click', () => shell.navigate('activity'));
    this.month.addEventListener('change', () => {
      this.exporter.clear();
      this.load();
    });
    this.fillMonths();
  }

  fillMonths() {
    const chosen = this.month.value || monthValue(new Date());
    const now = new Date();
    const options = Array.from({ length: MONTHS_OFFERED }, (_, back) => {
      const option = document.createElement('option');
      option.value = monthValue(now, back);
      option.textContent = monthLabel(option.value, intlLocales());
      return option;
    });
    this.month.replaceChildren(...options);
    this.month.value = chosen;
  }

  monthText() {
    return this.month.selectedOptions[0]?.textContent ?? this.month.value;
  }

  /** "212 visits · 6 locks": the month's total. */
  countText() {
    const rows = this.list.items;
    if (!this.list.loaded) return '';
    const visits = rows.reduce((sum, row) => sum + row.visits, 0);
    const locks = new Set(rows.map((row) => row.lockId)).size;
    return `${tn('visits.count', visits, { count: formatNumber(visits) })} · ${tn('visits.locks', locks, { count: formatNumber(locks) })}`;
  }

  async load() {
    const ticket = ++this.asked;
    try {
      const report = await ipc.visitsReport(this.month.value);
      if (ticket !== this.asked) return;
      this.error.replaceChildren();
      const rows = report.rows ?? [];
      rows.forEach((row, i) => (row.sameLock = i > 0 && rows[i - 1].lockId === row.lockId));
      this.list.setItems(rows);
    } catch (error) {
      if (ticket !== this.asked || this.shell.handleSignInError(error)) return;
      renderError(this.error, error, { context: 'activity' });
    }
  }

  title() {
    return t('visits.heading');
  }

  show() {
    this.load();
    this.heading.focus();
  }

  refresh() {
    this.load();
  }

  onEscape(e) {
    if (!e.defaultPrevented && !(e.target instanceof HTMLSelectElement)) this.shell.navigate('activity');
  }

  applyLanguage() {
    this.fillMonths();
    this.list.refresh();
  }

  destroy() {
    this.list.destroy();
  }
}

const COLUMNS = [
  {
    cell: 'visits-lock',
    fill: (td, row) => {
      td.textContent = row.lockName || t('locks.unnamed');
      td.setAttribute('title', [row.lockName, row.lockAddress, row.lockReference].filter(Boolean).join(' · '));
    },
  },
  {
    cell: 'visits-person',
    fill: (td, row) => {
      td.textContent = row.person || formatPhone(row.phone).text;
      td.setAttribute('title', td.textContent);
    },
  },
  {
    cell: 'visits-phone',
    fill: (td, row) => {
      const phone = formatPhone(row.phone);
      td.textContent = phone.text;
      td.classList.toggle('is-missing', phone.ownUse);
    },
  },
  { cell: 'visits-count', fill: (td, row) => (td.textContent = formatNumber(row.visits)) },
  {
    cell: 'visits-first',
    fill: (td, row) => {
      td.textContent = formatDateTime(row.first);
      td.setAttribute('title', formatDateTimeLong(row.first));
    },
  },
  {
    cell: 'visits-last',
    fill: (td, row) => {
      td.textContent = formatDateTime(row.last);
      td.setAttribute('title', formatDateTimeLong(row.last));
    },
  },
];
