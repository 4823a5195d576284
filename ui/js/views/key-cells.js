// What the three key lists (lock view, keys, awaiting approval) show the same way: the status badge,
// the recipient, the lock, the waiting time, the revoke button and its question, the order, and a shared once-a-minute tick.

import { fillNodes, t } from '../i18n.js';
import { confirmAction } from '../confirm.js';
import { formatClock, formatDate, formatDateTime, formatDateTimeLong, formatDuration, formatPhone, formatWindow } from '../format.js';
import { personFor } from '../people-store.js';
import { statusTitle, waitedMs, waitingSince } from './key-status-title.js';

export const KEY_STATUSES = ['creating', 'awaitingApproval', 'scheduled', 'active', 'expired', 'failed', 'revoked', 'seenInHistory', 'unknown'];
const ENDED = new Set(['revoked', 'expired', 'failed']);

/** The KeyStatus to show: Rust decides it; anything unexpected is "unknown". */
export function statusOf(key) {
  return KEY_STATUSES.includes(key?.status) ? key.status : 'unknown';
}

/** Keys that still work or may come to work can be revoked. */
export function isRevocable(key) {
  return !ENDED.has(statusOf(key));
}

/** A status badge: the glossary word always, colour only as a second signal. */
export function statusBadge(status) {
  const badge = document.createElement('span');
  badge.className = `badge badge-status status-${status}`;
  badge.textContent = t(`keyStatus.${status}`);
  return badge;
}

export { waitingSince, waitedMs };

/**
 * Fill a `.key-status` cell: data-status, the badge, and for a key awaiting approval how long it
 * has waited ("for 2 h 5 min"); for a key seen only in histories when it was last used.
 */
export function fillStatusCell(td, key, now = Date.now()) {
  const status = statusOf(key);
  td.setAttribute('data-status', status);
  // Badge above, waiting time below: both fit a row, neither gets cut off.
  const stack = document.createElement('span');
  stack.className = 'status-stack';
  stack.append(statusBadge(status));
  if (status === 'awaitingApproval' && waitingSince(key)) {
    const waited = document.createElement('span');
    waited.className = 'key-waited';
    waited.textContent = t('keys.waitingFor', { duration: formatDuration(waitedMs(key, now)) });
    stack.append(' ', waited);
  } else if (status === 'seenInHistory' && key.lastUsed) {
    // Known only from a history: what it says is shown ("Seen in history — last used …"), not a blank state.
    // The day fits under the badge in a list column; the tooltip has the time and zone.
    const used = document.createElement('span');
    used.className = 'key-last-used';
    used.textContent = t('keys.lastUsed', { time: formatDate(key.lastUsed) });
    stack.append(' ', used);
  }
  td.setAttribute('title', statusTitle(status, key, now));
  td.replaceChildren(stack);
}

/** The recipient as people write it: "Kari Nordmann (+47 900 00 000)" when the directory knows the number. */
function namedPhone(msn) {
  const phone = formatPhone(msn).text;
  const person = personFor(msn);
  return person ? t('people.namedPhone', { name: person.name, phone }) : phone;
}

/** The recipient (name and number, or the number), or "Recipient not known". */
export function recipientText(key) {
  return key.msn ? namedPhone(key.msn) : t('keys.recipientUnknown');
}

/** The recipient inside a sentence ("Key for Kari (+47 900 00 000) at …", "… for an unknown recipient at …"). */
export function recipientInline(key) {
  return key.msn ? namedPhone(key.msn) : t('keys.recipientUnknownInline');
}

/**
 * A phone cell: the person's name above the number when the directory knows it (both text),
 * else the number alone. missingText: what an empty number shows.
 */
export function fillPhoneCell(td, msn, missingText) {
  const person = personFor(msn);
  const phone = msn ? formatPhone(msn).text : missingText;
  if (person) {
    const name = document.createElement('span');
    name.className = 'person-name-inline';
    name.textContent = person.name;
    const number = document.createElement('span');
    number.className = 'person-phone-inline';
    number.textContent = phone;
    const stack = document.createElement('span');
    stack.className = 'status-stack';
    stack.append(name, ' ', number);
    td.replaceChildren(stack);
    td.setAttribute('data-person-id', String(person.id));
  } else {
    td.textContent = phone;
    td.removeAttribute('data-person-id');
  }
  td.classList.toggle('is-missing', !msn);
  if (msn) td.setAttribute('title', person ? `${person.name} ${msn}` : msn);
  else if (missingText) td.setAttribute('title', missingText); // a narrow column may cut it
  else td.removeAttribute('title');
}

export function fillRecipientCell(td, key) {
  fillPhoneCell(td, key.msn, t('keys.recipientUnknown'));
  const lines = [authorText(key), revokerText(key)].filter(Boolean);
  if (!lines.length) return;
  if (!td.firstElementChild) {
    // The number alone (no name known): stack it above the author lines.
    const stack = document.createElement('span');
    stack.className = 'status-stack';
    stack.textContent = td.textContent;
    td.replaceChildren(stack);
  }
  // Team mode: who created and who revoked the key on which desk (text only: typed by people).
  for (const text of lines) {
    const line = document.createElement('span');
    line.className = 'key-author';
    line.textContent = text;
    line.title = text;
    td.firstElementChild.append(' ', line);
  }
}

/** "Created by Anna on OFFICE-PC-2" for a key created in team mode, else null. */
export function authorText(key) {
  if (!key.createdBy) return null;
  return key.createdOnDesk
    ? t('keys.createdByOn', { name: key.createdBy, desk: key.createdOnDesk })
    : t('keys.createdBy', { name: key.createdBy });
}

/** "Revoked by Bjørn on OFFICE-PC-1" for a key revoked with the app in team mode, else null. */
export function revokerText(key) {
  if (!key.revokedBy) return null;
  return key.revokedOnDesk
    ? t('keys.revokedByOn', { name: key.revokedBy, desk: key.revokedOnDesk })
    : t('keys.revokedBy', { name: key.revokedBy });
}

/** The lock's name (owner-written: hostile text, textContent only) or "Unknown lock". */
export function lockLabel(key) {
  return key.lockName || t('keys.unknownLock');
}

export function fillWindowCell(td, key) {
  const text = formatWindow(key.start, key.end);
  const clamp = document.createElement('span');
  clamp.className = 'clamp-2';
  clamp.textContent = text;
  td.replaceChildren(clamp);
  td.classList.toggle('is-missing', !key.start && !key.end);
  // The tooltip holds the window as the cell writes it (a narrow column clamps it), then in full.
  const long = [key.start && formatDateTimeLong(key.start), key.end && formatDateTimeLong(key.end)].filter(Boolean).join(' – ');
  if (long) td.setAttribute('title', `${text}\n${long}`);
  else td.removeAttribute('title');
}

export function fillRouteCell(td, key) {
  const route = typeof key.route === 'string' ? key.route.trim() : '';
  td.textContent = route || t('common.none.symbol');
  td.classList.toggle('is-missing', !route);
  if (route) td.setAttribute('title', route);
  else td.removeAttribute('title');
}

/** A time cell with the full form as tooltip, or a muted placeholder. short: only the time for today. */
export function fillTimeCell(td, iso, missingKey, { short = false } = {}) {
  if (iso) {
    td.textContent = short ? formatClock(iso) : formatDateTime(iso);
    td.setAttribute('title', formatDateTimeLong(iso));
    td.classList.remove('is-missing');
  } else {
    td.textContent = t(missingKey);
    td.setAttribute('title', td.textContent); // "Fra hendelsesloggen" may be cut in a narrow column
    td.classList.add('is-missing');
  }
}

/**
 * The lock cell: a link-like button when the lock can be opened (it is in the cached locks),
 * else plain text. The button carries no handler: the view listens on its table.
 */
export function fillLockCell(td, key, canOpen) {
  const label = lockLabel(key);
  td.classList.toggle('is-missing', !key.lockName);
  td.setAttribute('title', label);
  // The name in a span of its own: the Keys list clamps it after three lines (its tooltip holds it).
  const text = document.createElement('span');
  text.className = 'lock-label';
  text.textContent = label;
  if (canOpen) {
    let button = td.firstElementChild;
    if (!(button instanceof HTMLButtonElement)) {
      button = document.createElement('button');
      button.type = 'button';
      button.className = 'link-button lock-link';
      button.tabIndex = -1; // the row is the tab stop; Enter on the row opens the lock too
    }
    button.replaceChildren(text);
    td.replaceChildren(button);
  } else {
    td.replaceChildren(text);
  }
}

/** An empty row with one cell per class. */
export function createRow(cellClasses) {
  const tr = document.createElement('tr');
  for (const cls of cellClasses) {
    const td = document.createElement('td');
    td.className = cls;
    tr.append(td);
  }
  return tr;
}

/** The `.key-revoke` button of a row (hidden when the key cannot be revoked); working: revoking now. */
export function fillRevokeCell(td, key, working) {
  let button = td.firstElementChild;
  if (!button) {
    button = document.createElement('button');
    button.type = 'button';
    button.className = 'button button-small key-revoke';
    const spinner = document.createElement('span');
    spinner.className = 'spinner';
    spinner.setAttribute('aria-hidden', 'true');
    const label = document.createElement('span');
    label.className = 'button-label';
    button.append(spinner, label);
    td.append(button);
  }
  button.hidden = !isRevocable(key);
  button.classList.toggle('is-busy', working);
  if (working) button.setAttribute('aria-disabled', 'true');
  else button.removeAttribute('aria-disabled');
  button.lastElementChild.textContent = t(working ? 'revoke.working' : 'revoke.button');
  button.setAttribute('aria-label', t(working ? 'revoke.working' : 'revoke.buttonFor', { recipient: recipientInline(key) }));
}

/** Ask before revoking: who loses the key on which lock, and that it cannot be undone. */
export function confirmRevoke(key, lockName) {
  const p = document.createElement('p');
  const who = document.createElement('strong');
  who.textContent = recipientInline(key);
  const where = document.createElement('strong');
  where.textContent = lockName;
  fillNodes(p, 'revoke.text', { recipient: who, lock: where });
  const after = document.createElement('p');
  after.className = 'hint';
  after.textContent = t('revoke.final');
  return confirmAction({ title: t('revoke.title'), body: [p, after], yesLabel: t('revoke.button'), noLabel: t('revoke.keep'), danger: true });
}

function timeOf(iso) {
  const ms = Date.parse(iso ?? '');
  return Number.isNaN(ms) ? -Infinity : ms;
}

/** Newest first: when this app created the key, else when it first knew of it. */
export function newestFirst(a, b) {
  return timeOf(b.createdAt ?? b.firstSeen) - timeOf(a.createdAt ?? a.firstSeen) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Longest waiting first. */
export function oldestWaitingFirst(a, b) {
  return timeOf(waitingSince(a)) - timeOf(waitingSince(b)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

// One shared timer for everything that shows "how long ago": the visible rows re-render once a minute.
const tickers = new Set();
let timer = 0;

/** Call fn once a minute until the returned function is called. */
export function everyMinute(fn) {
  tickers.add(fn);
  if (!timer) {
    timer = setInterval(() => {
      for (const f of tickers) f();
    }, 60000);
  }
  return () => {
    tickers.delete(fn);
    if (!tickers.size && timer) {
      clearInterval(timer);
      timer = 0;
    }
  };
}
