// A default file name for an export, offered in the save dialog. Lock names are written by lock
// owners: anything a file system refuses or misreads (path separators, reserved characters, control
// characters, leading dots) is taken out, and the name kept short. Pure, so ui-units.mjs tests it.

const MAX_BASE_LENGTH = 100;
// Windows refuses these in names; "/" and "\" would make folders; control characters confuse everyone.
// eslint-disable-next-line no-control-regex
const REFUSED = /[\\/:*?"<>|\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** "Event history Bod 12 2026-12-01.xlsx" from a base text and a format ("xlsx" | "csv"). */
export function exportFileName(base, format) {
  const cleaned = String(base ?? '')
    .replace(REFUSED, ' ')
    .replace(/\.{2,}/g, ' ') // ".." means "the folder above" to anyone who reads the name
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+|[.\s]+$/g, '');
  const short = [...cleaned].slice(0, MAX_BASE_LENGTH).join('').trim();
  return `${short || 'Unloc Desk'}.${format}`;
}

/** Today in the user's zone as yyyy-mm-dd: file names sort by date in any language. */
export function fileDate(now = new Date()) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}
