// The Activity table's columns: when, what, which lock, who and their phone, each filled as text.

import { t } from '../i18n.js';
import { formatPhone } from '../format.js';
import { fillActionCell, fillEventPhoneCell, fillTimeCell } from './event-cells.js';

/** Who: the office's own name for the phone when there is one, else the name Unloc gave, else the phone. */
export function personText(row) {
  return row.person || row.name || formatPhone(row.msn).text;
}

export const COLUMNS = [
  { cell: 'activity-time', fill: (td, row) => fillTimeCell(td, row.at) },
  { cell: 'activity-action', fill: (td, row) => fillActionCell(td, row.action) },
  {
    cell: 'activity-lock',
    fill: (td, row) => {
      td.textContent = row.lockName || t('locks.unnamed');
      td.setAttribute('title', [row.lockName, row.lockAddress, row.lockReference].filter(Boolean).join(' · '));
    },
  },
  {
    cell: 'activity-person',
    fill: (td, row) => {
      // Two lines at most (the row is 40 px): a longer name is clamped, whole in the tooltip.
      const text = document.createElement('span');
      text.className = 'clamp-2';
      text.textContent = personText(row);
      td.replaceChildren(text);
      td.setAttribute('title', text.textContent);
    },
  },
  { cell: 'activity-phone', fill: (td, row) => fillEventPhoneCell(td, row.msn) },
];
