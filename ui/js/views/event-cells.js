// The cells every event table fills the same way (Activity, a lock's history, a person's events):
// when it happened, what happened and the phone. One place, so an action word or a date reads alike in all three.

import { t } from '../i18n.js';
import { formatDateTime, formatDateTimeLong, formatPhone } from '../format.js';

/** The actions the app has words for; any other is shown as Unloc wrote it. */
export const KNOWN_ACTIONS = new Set(['locked', 'unlocked']);

/** When: the short local time, the long one (date, time and zone) in the tooltip. */
export function fillTimeCell(td, at) {
  td.textContent = formatDateTime(at);
  td.setAttribute('title', formatDateTimeLong(at));
}

/** What: "Locked"/"Unlocked" in the user's language; an unknown action as text, marked unknown for the CSS. */
export function fillActionCell(td, action) {
  const known = KNOWN_ACTIONS.has(action);
  td.textContent = known ? t(`events.action.${action}`) : String(action ?? '');
  td.dataset.action = known ? action : 'unknown';
}

/** The phone as people write it, or "Unloc Work (your staff)" muted; whole in the tooltip where the column cuts it. */
export function fillEventPhoneCell(td, msn) {
  const phone = formatPhone(msn);
  td.textContent = phone.text;
  td.setAttribute('title', phone.text);
  td.classList.toggle('is-missing', phone.ownUse);
}
