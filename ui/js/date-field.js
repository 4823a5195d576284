// Date-and-time text fields in the app's language, not the OS's: WebKitGTK's own date-time field
// follows the OS locale (a Norwegian user on an English desktop would get mm/dd/yyyy and AM/PM), so
// the key form uses plain text fields with this format, parser and placeholder. Also the time zone as
// people know it. Pure functions of their arguments (the locales come from i18n.js): node can test them.

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** The order of day, month and year and the separator the app's language writes dates with. */
export function dateFieldFormat(locales) {
  const parts = new Intl.DateTimeFormat(locales, { year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(
    new Date(2026, 10, 26),
  );
  const order = parts.filter((p) => ['day', 'month', 'year'].includes(p.type)).map((p) => p.type);
  const literal = parts.find((p) => p.type === 'literal')?.value.trim() || '.';
  return { order: order.length === 3 ? order : ['day', 'month', 'year'], sep: literal.slice(0, 1) };
}

/** A Date as the field shows it: "26.11.2026 14:05" (nb), "26/11/2026 14:05" (en-GB); 24-hour time. */
export function toDateFieldValue(date, locales) {
  const d = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(d.getTime())) return '';
  const { order, sep } = dateFieldFormat(locales);
  const values = { day: pad(d.getDate()), month: pad(d.getMonth() + 1), year: String(d.getFullYear()) };
  return `${order.map((part) => values[part]).join(sep)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * "dd.mm.åååå tt:mm": letters is the language's "day month year hour minute" letters, e.g.
 * "dd mm åååå tt mm", put in the language's order and separators.
 */
export function datePlaceholder(letters, locales) {
  const [day, month, year, hour, minute] = String(letters).split(/\s+/);
  const { order, sep } = dateFieldFormat(locales);
  const byPart = { day, month, year };
  return `${order.map((part) => byPart[part]).join(sep)} ${hour}:${minute}`;
}

/**
 * A typed local date and time → Date, or null when it is not a real one. The app's order with
 * ".", "/" or "-" between the numbers ("26.11.2026 14:05", "26.11.2026 kl. 14.05"); the time may be
 * left out (midnight); ISO "2026-11-26 14:05" (or with T) is read too, since it cannot be misread.
 */
export function parseDateField(text, locales) {
  const s = String(text ?? '').trim();
  let y, mo, d, h = 0, mi = 0;
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]+(\d{1,2})[:.](\d{2})(?::\d{2}(?:\.\d+)?)?)?$/.exec(s);
  if (m) {
    [, y, mo, d, h = 0, mi = 0] = m;
  } else {
    m = /^(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})(?:[,\s]+(?:kl\.?\s*)?(\d{1,2})[:.](\d{2}))?$/i.exec(s);
    if (!m) return null;
    const { order } = dateFieldFormat(locales);
    const values = {};
    order.forEach((part, i) => {
      values[part] = m[i + 1];
    });
    ({ day: d, month: mo, year: y } = values);
    [h = 0, mi = 0] = [m[4], m[5]];
    if (String(y).length !== 4) return null;
  }
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi));
  // new Date(2026, 1, 31) rolls over into March: such a day does not exist.
  if (date.getFullYear() !== Number(y) || date.getMonth() !== Number(mo) - 1 || date.getDate() !== Number(d)) return null;
  if (Number(h) > 23 || Number(mi) > 59) return null;
  return date;
}

/** An offset in minutes east of UTC as people write it: "UTC", "UTC+3", "UTC+5:30", "UTC−4". */
export function utcOffsetText(minutesEast) {
  if (!minutesEast) return 'UTC';
  const sign = minutesEast > 0 ? '+' : '\u2212';
  const abs = Math.abs(minutesEast);
  return `UTC${sign}${Math.floor(abs / 60)}${abs % 60 ? `:${pad(abs % 60)}` : ''}`;
}

/**
 * The zone's name as people know it: a city zone by its IANA name ("Europe/Oslo"); a fixed-offset
 * zone ("Etc/GMT-3", "UTC") by its offset ("UTC+3"), since "Etc/GMT-3" means UTC+3, which nobody guesses.
 */
export function knownZoneName(iana, minutesEast) {
  const name = String(iana ?? '');
  if (name.includes('/') && !/^Etc\//i.test(name)) return name;
  return utcOffsetText(minutesEast);
}

/** A short zone name from Intl ("CET", "GMT+3") in the same words: offsets as "UTC+3". */
export function shortZoneText(short) {
  return String(short ?? '').replace(/^GMT(?=[+\u2212-]\d)/, 'UTC').replace(/-(?=\d)/, '\u2212');
}
