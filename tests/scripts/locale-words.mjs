//! Checks the UI's words: ui/locales/en.json and nb.json have the same keys and the same {placeholders},
//! and the Norwegian follows /work/shared/glossary.md — the API token is "API-token", never a "nøkkel"
//! (a door key); "Mislyktes", not "Feilet"; "Eieren må …", "hver ny nøkkel"; one form of address ("du",
//! no "De/Dem/Deres"); "Oppdater" means refresh, so a new app version is never an "oppdatering"; and no
//! English left in the Norwegian. Run: `node tests/scripts/locale-words.mjs` (exit 1 and a list when not).
//! `node tests/scripts/locale-words.mjs --self-test` also checks that each rule catches a broken text.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const load = (lang) => JSON.parse(readFileSync(join(ROOT, 'ui', 'locales', `${lang}.json`), 'utf8'));

// Texts that are the same in both languages on purpose: names, symbols, key caps, loan words.
const SAME_IN_BOTH = new Set([
  'app.name', 'app.windowTitle', 'shell.partner', 'common.none.symbol', 'duration.minutes', 'keys.window.range',
  'keys.window.sameDay', 'keys.col.status', 'keys.filter.label', 'settings.language.en', 'settings.language.nb',
  'people.namedPhone',
  'activity.person.label', 'export.col.person',
]);

// Key caps are printed the same on Norwegian keyboards.
const KEY_CAP = /^(Ctrl\+\w|Shift\+\w|Enter|Esc|Tab|F\d+)$/;

/** [rule, test(nbText, enText, key) → true when broken]: the glossary's rules for the Norwegian. */
const NB_RULES = [
  ['the API token is "API-token", never a "nøkkel"', (nb, en) => /API-nøkkel/i.test(nb)
    || (/\btoken/i.test(en) && (!/token/i.test(nb) || (/nøkkel(en)?\b/i.test(nb) && !/\bkeys?\b/i.test(en))))],
  ['"Mislyktes", not "Feilet"', (nb) => /\bfeilet\b/i.test(nb)],
  ['"Eieren må …", not "Eier må …"', (nb) => /\bEier må /.test(nb)],
  ['"hver ny nøkkel", not "hver nye nøkkel"', (nb) => /\bhver nye\b/i.test(nb)],
  ['one form of address: "du", never "De/Dem/Deres"', (nb) => /\b(De|Dem|Deres)\b/.test(nb)],
  ['a new version is "ny versjon": "oppdatering" would read as Refresh', (nb) => /oppdatering/i.test(nb)],
  ['no English left in the Norwegian', (nb, en, key) => nb === en && !SAME_IN_BOTH.has(key) && !KEY_CAP.test(en) && /[a-z]{3}/i.test(en)],
];

const EN_RULES = [
  ['a new version is "new version": "update" would read as Refresh', (en) => /\bupdate available\b|\bcheck for updates\b/i.test(en)],
  ['an identifier is an "ID", as in "Partner ID" and "Lock ID" (and "ID" in the Norwegian), never an "id"', (en) => /\bid\b/.test(en)],
];

const placeholders = (text) => [...String(text).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');

export function check(en, nb) {
  const problems = [];
  for (const key of new Set([...Object.keys(en), ...Object.keys(nb)])) {
    if (!(key in en) || !(key in nb)) {
      problems.push(`${key}: only in ${key in en ? 'en' : 'nb'}.json`);
      continue;
    }
    if (placeholders(en[key]) !== placeholders(nb[key])) problems.push(`${key}: placeholders differ`);
    for (const [rule, broken] of NB_RULES) if (broken(nb[key], en[key], key)) problems.push(`nb ${key}: ${rule}: “${nb[key]}”`);
    for (const [rule, broken] of EN_RULES) if (broken(en[key])) problems.push(`en ${key}: ${rule}: “${en[key]}”`);
  }
  return problems;
}

function selfTest(en, nb) {
  // One broken text per rule: each must be caught, or the rule cannot fail.
  const breaks = [
    ['signin.token.label', 'API-nøkkel (token)'],
    ['keyStatus.failed', 'Feilet'],
    ['grant.optIn', 'Eier må godkjenne hver nøkkel'],
    ['locks.optInSummary.one', '{count} lås krever at eieren godkjenner hver nye nøkkel.'],
    ['error.notSignedIn.action', 'Logg inn for å fortsette, så ser De listen.'],
    ['shell.updateAvailable', 'Oppdatering tilgjengelig'],
    ['action.cancel', en['action.cancel']],
    ['error.unauthorized.title', 'Unloc godtok ikke nøkkelen'],
  ];
  const missed = breaks.filter(([key, text]) => check(en, { ...nb, [key]: text }).length === 0);
  const enBreaks = [
    ['shell.updateAvailable', 'Update available'],
    ['keys.add.label', 'Follow a key by its id'],
  ];
  const enMissed = enBreaks.filter(([key, text]) => check({ ...en, [key]: text }, nb).length === 0);
  return [...missed, ...enMissed].map(([key, text]) => `self-test: “${text}” in ${key} was not caught`);
}

const en = load('en');
const nb = load('nb');
const problems = [...check(en, nb), ...(process.argv.includes('--self-test') ? selfTest(en, nb) : [])];
if (problems.length) {
  console.error(`locale-words: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`locale-words: ${Object.keys(en).length} texts in en and nb, glossary rules hold`);
