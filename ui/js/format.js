// Display formats in the current UI language: dates (OS time zone, zone visible), phone numbers,
// addresses, the grant (opt-in / opt-out), numbers, and the folding used by every search box.

import { getLanguage, intlLocales, t } from './i18n.js';

let cache = null;

function formats() {
  const lang = getLanguage();
  if (cache?.lang === lang) return cache;
  const locales = intlLocales();
  const dayTime = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  let regions = null;
  try {
    regions = new Intl.DisplayNames(locales, { type: 'region' });
  } catch {
    // Older engines: the country is then shown as its code.
  }
  cache = {
    lang,
    // No timeZone option anywhere: Intl then uses the OS time zone.
    dateTimeZone: new Intl.DateTimeFormat(locales, { ...dayTime, timeZoneName: 'short' }),
    dateTime: new Intl.DateTimeFormat(locales, dayTime),
    long: new Intl.DateTimeFormat(locales, { dateStyle: 'full', timeStyle: 'long', hourCycle: 'h23' }),
    time: new Intl.DateTimeFormat(locales, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
    number: new Intl.NumberFormat(locales),
    collator: new Intl.Collator(locales, { numeric: true, sensitivity: 'base' }),
    regions,
  };
  return cache;
}

function toDate(value) {
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

// "26.11.2026, 14:05 CET" → "26.11.2026 14:05 CET": one plain space between date, time and zone.
function joinParts(format, date) {
  const parts = format.formatToParts(date);
  return parts
    .map((p, i) => {
      const next = parts[i + 1]?.type;
      if (p.type === 'literal' && (next === 'hour' || next === 'timeZoneName')) return ' ';
      return p.value;
    })
    .join('');
}

/** Date + 24-hour time + zone, e.g. "26.11.2026 14:05 CET". Unparseable input comes back as is. */
export function formatDateTime(value) {
  const d = toDate(value);
  return d ? joinParts(formats().dateTimeZone, d) : String(value ?? '');
}

/** The full, unambiguous form for tooltips, e.g. "torsdag 26. november 2026 kl. 14:05:03 CET". */
export function formatDateTimeLong(value) {
  const d = toDate(value);
  return d ? formats().long.format(d) : String(value ?? '');
}

/** "14:05" for today, else date and time: for "Last updated …" lines. */
export function formatClock(value) {
  const d = toDate(value);
  if (!d) return String(value ?? '');
  const now = new Date();
  const today = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return today ? formats().time.format(d) : joinParts(formats().dateTime, d);
}

export function formatNumber(n) {
  return formats().number.format(n);
}

/** Compare two texts the way people of the current language sort them (numbers by value). */
export function compareText(a, b) {
  return formats().collator.compare(a, b);
}

/**
 * A phone number for display. Norwegian numbers get the usual grouping (+47 900 00 000 for
 * mobiles, +47 22 12 34 56 otherwise); others stay as given; "" means the partner's own staff
 * used the key through Unloc Work.
 */
export function formatPhone(msn) {
  if (!msn) return { text: t('phone.ownUse'), ownUse: true };
  const m = /^\+47(\d{8})$/.exec(msn);
  if (!m) return { text: msn, ownUse: false };
  const d = m[1];
  const grouped = /^[49]/.test(d)
    ? `${d.slice(0, 3)} ${d.slice(3, 5)} ${d.slice(5)}`
    : `${d.slice(0, 2)} ${d.slice(2, 4)} ${d.slice(4, 6)} ${d.slice(6)}`;
  return { text: `+47 ${grouped}`, ownUse: false };
}

function clean(value) {
  return typeof value === 'string' ? value.trim() : '';
}

/** "Parkveien 4, 0351 Oslo" (+ country when not Norway), or "" when the lock has no address. */
export function formatAddress(lock) {
  const place = [clean(lock.postalCode), clean(lock.city)].filter(Boolean).join(' ');
  const lines = [clean(lock.street), place].filter(Boolean);
  const iso = clean(lock.countryIso).toUpperCase();
  if (lines.length && iso && iso !== 'NO') {
    let country = iso;
    try {
      country = formats().regions?.of(iso) ?? iso;
    } catch {
      // Not a valid region code: show it as given.
    }
    lines.push(country);
  }
  return lines.join(', ');
}

/** The grant of a lock: "opt-in", "opt-out" or "unknown" (any other value, kept verbatim elsewhere). */
export function grantKind(auth) {
  return auth === 'opt-in' || auth === 'opt-out' ? auth : 'unknown';
}

/** A badge for the grant: text always says it (colour is only a second signal). */
export function grantBadge(auth) {
  const kind = grantKind(auth);
  const badge = document.createElement('span');
  badge.className = `badge badge-${kind}`;
  if (kind === 'opt-in') badge.textContent = t('grant.optIn');
  else if (kind === 'opt-out') badge.textContent = t('grant.optOut');
  else badge.textContent = auth ? String(auth) : t('grant.empty');
  return badge;
}

const FOLD_EXTRA = { ø: 'o', æ: 'ae', đ: 'd', ð: 'd', ł: 'l', ß: 'ss', œ: 'oe', þ: 'th' };

/** Lower case without diacritics ("Bakdør Å" → "bakdor a"), for case- and accent-blind search. */
export function fold(value) {
  return String(value ?? '')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[øæđðłßœþ]/g, (c) => FOLD_EXTRA[c]);
}

/** The words of a search box, folded; an empty array matches everything. */
export function searchWords(query) {
  return fold(query).split(/\s+/).filter(Boolean);
}

/** True when every word occurs in the folded haystack. */
export function matchesAll(haystack, words) {
  for (const w of words) if (!haystack.includes(w)) return false;
  return true;
}
