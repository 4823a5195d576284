// Display formats in the current UI language: dates (OS time zone, zone visible), phone numbers,
// addresses, the grant (opt-in / opt-out), numbers, the folding used by every search box, and for keys:
// durations, validity windows, the recipient number typed by people, local date-time input (date-field.js).

import { getLanguage, intlLocales, intlLocalesFor, t, tn } from './i18n.js';
import { datePlaceholder, knownZoneName, parseDateField, shortZoneText, toDateFieldValue } from './date-field.js';

const DAY_TIME = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };

// Each format is made the first time it is used, not all at once: the first rows after sign-in need
// the collator, and a date format with a zone name (or the region names) costs the webview ~10–40 ms
// of ICU data the first time. No timeZone option anywhere: Intl then uses the OS time zone.
const MAKERS = {
  dateTimeZone: (locales) => new Intl.DateTimeFormat(locales, { ...DAY_TIME, timeZoneName: 'short' }),
  dateTime: (locales) => new Intl.DateTimeFormat(locales, DAY_TIME),
  date: (locales) => new Intl.DateTimeFormat(locales, { year: 'numeric', month: '2-digit', day: '2-digit' }),
  long: (locales) => new Intl.DateTimeFormat(locales, { dateStyle: 'full', timeStyle: 'long', hourCycle: 'h23' }),
  time: (locales) => new Intl.DateTimeFormat(locales, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
  number: (locales) => new Intl.NumberFormat(locales),
  collator: (locales) => new Intl.Collator(locales, { numeric: true, sensitivity: 'base' }),
  regions: (locales) => {
    try {
      return new Intl.DisplayNames(locales, { type: 'region' });
    } catch {
      return null; // older engines: the country is then shown as its code
    }
  },
};

/**
 * Has ICU load the data of the lists' number format and collator, in both UI languages, while the
 * page only waits for the start-up reply: made for the first time inside the first rows' work, the
 * locks' count (its number format) alone took WebKit ~15 ms there. The formats themselves are made
 * when first used, in the language the reply sets; ICU keeps the data it loaded.
 */
export function readyFormatData() {
  try {
    for (const locales of [intlLocalesFor('nb'), intlLocalesFor('en')]) {
      MAKERS.number(locales).format(10000);
      MAKERS.collator(locales).compare('a', 'b');
    }
  } catch (err) {
    console.warn('the formats were not readied ahead', err); // made when first used instead
  }
}

let cache = null; // { lang, locales, made: name → format } for the current UI language

/** The named format (MAKERS) in the current UI language. */
function format(name) {
  const lang = getLanguage();
  if (cache?.lang !== lang) cache = { lang, locales: intlLocales(), made: new Map() };
  let made = cache.made.get(name);
  if (made === undefined) {
    made = MAKERS[name](cache.locales);
    cache.made.set(name, made);
  }
  return made;
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
      return p.type === 'timeZoneName' ? shortZoneText(p.value) : p.value;
    })
    .join('');
}

/** Date + 24-hour time + zone, e.g. "26.11.2026 14:05 CET". Unparseable input comes back as is. */
export function formatDateTime(value) {
  const d = toDate(value);
  return d ? joinParts(format('dateTimeZone'), d) : String(value ?? '');
}

/** The local day alone, e.g. "26.11.2026": where the time would crowd a narrow cell (the tooltip has it). */
export function formatDate(value) {
  const d = toDate(value);
  return d ? format('date').format(d) : String(value ?? '');
}

/** The full, unambiguous form for tooltips, e.g. "torsdag 26. november 2026 kl. 14:05:03 CET". */
export function formatDateTimeLong(value) {
  const d = toDate(value);
  return d ? format('long').format(d) : String(value ?? '');
}

/** "14:05" for today, else date and time: for "Last updated …" lines. */
export function formatClock(value) {
  const d = toDate(value);
  if (!d) return String(value ?? '');
  const now = new Date();
  const today = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return today ? format('time').format(d) : joinParts(format('dateTime'), d);
}

export function formatNumber(n) {
  return format('number').format(n);
}

/** The current language's collator: how people of it sort texts (numbers by value, case and accents aside). */
export function textCollator() {
  return format('collator');
}

/** Compare two texts the way people of the current language sort them (numbers by value). */
export function compareText(a, b) {
  return textCollator().compare(a, b);
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
      country = format('regions')?.of(iso) ?? iso;
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
  else {
    // Null, missing or a value this app does not know: never shown as if it were opt-out.
    badge.textContent = t('grant.unknown');
    if (auth) badge.setAttribute('title', String(auth));
  }
  return badge;
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;
const FOLD_EXTRA = { ø: 'o', æ: 'ae', đ: 'd', ð: 'd', ł: 'l', ß: 'ss', œ: 'oe', þ: 'th' };

/** Lower case without diacritics ("Bakdør Å" → "bakdor a"), for case- and accent-blind search. */
export function fold(value) {
  const text = String(value ?? '');
  if (ASCII_ONLY.test(text)) return text.toLowerCase(); // most names and streets: nothing to strip
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[øæđðłßœþ]/g, (c) => FOLD_EXTRA[c]);
}

/** The words of a search box, folded; an empty array matches everything. */
export function searchWords(query) {
  return fold(query).split(/\s+/).filter(Boolean);
}

// ---- keys: durations, validity windows, the recipient's number, local date input --------------

/** How long, roughly: "under a minute", "5 min", "2 h 5 min", "3 days 2 h". */
export function formatDuration(ms) {
  const minutes = Math.max(0, Math.floor((Number(ms) || 0) / 60000));
  if (minutes < 1) return t('duration.underMinute');
  if (minutes < 60) return t('duration.minutes', { minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return rest ? t('duration.hoursMinutes', { hours, minutes: rest }) : t('duration.hours', { hours });
  }
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest ? tn('duration.daysHours', days, { hours: rest }) : tn('duration.days', days);
}

function zoneOf(d) {
  return shortZoneText(format('dateTimeZone').formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '');
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/**
 * A key's validity window in local time with the zone once: "26.11.2026 14:05 – 30.11.2026 18:00 CET",
 * "26.11.2026 14:05–18:00 CET" on one day, "26.11.2026 14:05 CET – no end", "until …", "Not known".
 */
export function formatWindow(start, end) {
  const s = start ? toDate(start) : null;
  const e = end ? toDate(end) : null;
  // No line break inside a date, nor between a time and its zone: a narrow column breaks at the dash,
  // or between the date and the time ("02.12.2026" over "17:39 UTC+3 –").
  const keep = (text) => text.replace(/ /g, '\u00a0').replace(/\u00a0(?=\d{1,2}[:.]\d{2})/g, ' ');
  const full = (d) => keep(formatDateTime(d));
  if (!s && !e) return t('keys.window.unknown');
  if (!s) return t('keys.window.until', { end: full(e) });
  if (!e) return t('keys.window.noEnd', { start: full(s) });
  const zs = zoneOf(s);
  const ze = zoneOf(e);
  if (zs !== ze) return t('keys.window.range', { start: full(s), end: full(e) });
  const from = keep(joinParts(format('dateTime'), s));
  const to = keep(sameDay(s, e) ? format('time').format(e) : joinParts(format('dateTime'), e));
  const text = t(sameDay(s, e) ? 'keys.window.sameDay' : 'keys.window.range', { start: from, end: to });
  return zs ? `${text}\u00a0${keep(zs)}` : text;
}

/** The OS time zone for hints, as people know it: "Europe/Oslo (CET)", or "UTC+3" for Etc/GMT-3. */
export function timeZoneLabel() {
  let iana = '';
  try {
    iana = Intl.DateTimeFormat().resolvedOptions().timeZone ?? '';
  } catch {
    // Unknown zone: the offset will do.
  }
  const now = new Date();
  const name = knownZoneName(iana, -now.getTimezoneOffset());
  const short = zoneOf(now);
  return short && short !== name ? `${name} (${short})` : name;
}

const PHONE_SEPARATORS = /[\s().\-/\u00a0]/g;

/**
 * A recipient's number as typed ("900 00 000", "90000000", "+47 900 00 000", "004790000000") to
 * E.164. Without + or 00 the number is Norwegian (+47). Returns {e164} or {problem} with problem one
 * of "empty", "characters", "plusMissing", "norwegianLength", "format".
 */
export function normalizePhone(input) {
  const raw = String(input ?? '').trim();
  if (!raw) return { problem: 'empty' };
  const compact = raw.replace(PHONE_SEPARATORS, '');
  if (!/^\+?\d+$/.test(compact)) return { problem: 'characters' };
  let e164;
  if (compact.startsWith('+')) e164 = compact;
  else if (compact.startsWith('00')) e164 = `+${compact.slice(2)}`;
  else if (/^47\d{8}$/.test(compact)) return { problem: 'plusMissing' }; // "4790000000": +47 meant, or not?
  else e164 = `+47${compact}`;
  if (e164.startsWith('+47') && !/^\+47\d{8}$/.test(e164)) return { problem: 'norwegianLength' };
  if (!/^\+[1-9][0-9]{6,14}$/.test(e164)) return { problem: 'format' };
  return { e164 };
}

/** The key form's date-time text, in the app's language: value, parsed value and placeholder. */
export function toDateTimeInputValue(date) {
  return toDateFieldValue(date, intlLocales());
}

export function parseDateTimeInput(text) {
  return parseDateField(text, intlLocales());
}

export function dateTimePlaceholder() {
  return datePlaceholder(t('keyForm.dateLetters'), intlLocales());
}
