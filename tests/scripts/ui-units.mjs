//! Unit tests of the UI's pure modules, run by node without a browser: the key form's date-time text
//! in the app's language (ui/js/date-field.js), the time zone as people know it, the Activity
//! view's filter (ui/js/views/activity-filter.js), which filter its rows answer (shown-filter.js) and
//! which its export writes (filter-query.js, activity-export.js), and an export's default file name
//! (ui/js/export-name.js), the time and action cells the event tables share (views/event-cells.js), and
//! which events a lock's history export writes, under which name and note (views/lock-export.js), and where
//! a key's validity window may break across lines (format.js).
//! Run: `node tests/scripts/ui-units.mjs` (exit 1 and the failures when one fails).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  datePlaceholder, knownZoneName, parseDateField, shortZoneText, toDateFieldValue, utcOffsetText,
} from '../../ui/js/date-field.js';
import { filterOf, isFiltered, typedDay } from '../../ui/js/views/activity-filter.js';
import { exportFileName, fileDate } from '../../ui/js/export-name.js';
import { STALE, ShownFilter } from '../../ui/js/views/shown-filter.js';
import { SearchIndex } from '../../ui/js/search-index.js';

// format.js reads the UI language through i18n.js, which asks the browser for its languages.
globalThis.navigator ??= { languages: ['en'] };
const { compareText, fold, formatWindow } = await import('../../ui/js/format.js');
const { collationRanks, orderByRank } = await import('../../ui/js/collation.js');
const { collationTests } = await import('./ui-units-collation.mjs');
const { FilterQuery } = await import('../../ui/js/views/filter-query.js');
const { exportShown } = await import('../../ui/js/views/activity-export.js');
const i18n = await import('../../ui/js/i18n.js');
const { fillActionCell, fillEventPhoneCell, fillTimeCell, KNOWN_ACTIONS } = await import('../../ui/js/views/event-cells.js');
const { COLUMNS: ACTIVITY_COLUMNS } = await import('../../ui/js/views/activity-columns.js');
const { statusTitle } = await import('../../ui/js/views/key-status-title.js');
const { exportShownHistory, historyDigest, historyFileName, scopeNote, shownScope, wireLockExport } = await import('../../ui/js/views/lock-export.js');

// The catalogs as the app loads them (node's fetch does not read files), in a language set as the app sets it.
globalThis.fetch = async (url) => ({ ok: true, json: async () => JSON.parse(readFileSync(new URL(url), 'utf8')) });
globalThis.document ??= { documentElement: {} };
await i18n.loadLocales();

const NB = ['nb-NO', 'nb', 'no'];
const EN = ['en-GB'];
const tests = [];
const test = (name, fn) => tests.push([name, fn]);

test('norwegian dates are written dd.mm.åååå with 24-hour time', () => {
  assert.equal(toDateFieldValue(new Date(2026, 10, 26, 14, 5), NB), '26.11.2026 14:05');
  assert.equal(toDateFieldValue(new Date(2026, 0, 2, 0, 0), NB), '02.01.2026 00:00');
  assert.equal(datePlaceholder('dd mm åååå tt mm', NB), 'dd.mm.åååå tt:mm');
});

test('english dates are day first with slashes, never a 12-hour clock', () => {
  assert.equal(toDateFieldValue(new Date(2026, 10, 26, 21, 30), EN), '26/11/2026 21:30');
  assert.equal(datePlaceholder('dd mm yyyy hh mm', EN), 'dd/mm/yyyy hh:mm');
});

test('a typed date is read in the language order, and back to the same text', () => {
  const date = parseDateField('26.11.2026 14:05', NB);
  assert.deepEqual([date.getFullYear(), date.getMonth(), date.getDate(), date.getHours(), date.getMinutes()], [2026, 10, 26, 14, 5]);
  assert.equal(toDateFieldValue(parseDateField('3.2.2027 kl. 7.45', NB), NB), '03.02.2027 07:45');
  assert.equal(toDateFieldValue(parseDateField('26/11/2026 14:05', EN), EN), '26/11/2026 14:05');
  assert.equal(toDateFieldValue(parseDateField('2026-11-26T14:05', NB), NB), '26.11.2026 14:05');
  assert.equal(toDateFieldValue(parseDateField('26.11.2026', NB), NB), '26.11.2026 00:00');
});

test('month-first languages read month first', () => {
  assert.equal(toDateFieldValue(parseDateField('11/26/2026 14:05', ['en-US']), NB), '26.11.2026 14:05');
});

test('days and times that do not exist are refused', () => {
  for (const text of ['31.02.2026 10:00', '26.11.2026 24:00', '26.11.2026 14:60', '26.13.2026', '26.11.26 14:05', 'i morgen', '', '14:05']) {
    assert.equal(parseDateField(text, NB), null, text);
  }
});

test('a city zone keeps its name, a fixed offset is shown as UTC±h', () => {
  assert.equal(knownZoneName('Europe/Oslo', 60), 'Europe/Oslo');
  assert.equal(knownZoneName('Etc/GMT-3', 180), 'UTC+3');
  assert.equal(knownZoneName('Etc/GMT+4', -240), 'UTC\u22124');
  assert.equal(knownZoneName('UTC', 0), 'UTC');
  assert.equal(utcOffsetText(330), 'UTC+5:30');
  assert.equal(shortZoneText('GMT+3'), 'UTC+3');
  assert.equal(shortZoneText('CET'), 'CET');
  assert.equal(shortZoneText('GMT'), 'GMT');
});

test('sorting by collation ranks gives the order of comparing the texts, equal texts tied', () => {
  const names = ['Kontor 10', 'kontor 2', 'Bakdør', 'bakdor', 'Ærlig', '', 'Kontor 2', 'Zebra', 'Åpen', 'kontor 10'];
  const ranks = collationRanks(names);
  const byRank = names.map((_, i) => i).sort((a, b) => ranks[a] - ranks[b]);
  const byCompare = names.map((_, i) => i).sort((a, b) => compareText(names[a], names[b]));
  assert.deepEqual(byRank, byCompare);
  for (let a = 0; a < names.length; a++) {
    for (let b = 0; b < names.length; b++) {
      assert.equal(Math.sign(ranks[a] - ranks[b]), Math.sign(compareText(names[a], names[b])), `${names[a]} vs ${names[b]}`);
    }
  }
});

test('ordering by rank is the stable sort by rank, both ways, ties in index order', () => {
  const ranks = [3, 0, 2, 3, 1, 0, 2, 3, 0, 1, 4, 2];
  for (const dir of [1, -1]) {
    const stable = ranks.map((_, i) => i).sort((a, b) => dir * (ranks[a] - ranks[b]));
    assert.deepEqual(orderByRank(ranks, dir), stable, `dir ${dir}`);
  }
  const many = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 613);
  assert.deepEqual(orderByRank(many, -1), many.map((_, i) => i).sort((a, b) => many[b] - many[a]));
  assert.deepEqual(orderByRank([]), []);
  assert.deepEqual(orderByRank([0, 0, 0], -1), [0, 1, 2]);
});

test('folding plain ASCII text gives what the full folding gives', () => {
  const full = (text) => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  for (const text of ['Storgata 12, 0155 OSLO', 'customer-001', '<b>Kunde</b>&amp;', '', 'A\tB\nC']) {
    assert.equal(fold(text), full(text), text);
  }
  assert.equal(fold('Bakdør Å'), 'bakdor a');
});

test('a search index keeps each distinct text once and finds what testing every text finds', () => {
  const people = ['ola nordmann\n+4791234567', 'kari nordmann\n+4798765432', 'per hansen\n'];
  const items = Array.from({ length: 1000 }, (_, i) => ({ text: people[(i * 7) % 3] }));
  const textOf = (item) => item.text;
  const index = new SearchIndex(items, textOf);
  assert.equal(index.texts.length, 3);
  items.forEach((item, i) => assert.equal(index.textOf(i), item.text));
  for (const words of [['nordmann'], ['kari', '9876'], ['ola', 'kari'], ['hansen'], ['zz'], []]) {
    const matches = index.matcher(words);
    const every = items.map((item, i) => i).filter((i) => words.every((w) => items[i].text.includes(w)));
    const found = items.map((item, i) => i).filter((i) => matches(i));
    assert.deepEqual(found, every, words.join(' '));
    assert.deepEqual(items.map((_, i) => i).filter((i) => matches(i)), every, 'asked again, the same answer');
  }
});

test('the activity filter sends a preset, or two local days typed in the language order', () => {
  const base = { range: 'all', from: '', to: '', lock: '', person: '', action: 'all' };
  assert.deepEqual(filterOf(base, NB).filter, { range: null, lock: '', person: '', action: null });
  assert.equal(isFiltered(filterOf(base, NB).filter), false);
  assert.deepEqual(filterOf({ ...base, range: 'lastWeek' }, NB).filter.range, { preset: 'lastWeek' });
  const between = filterOf({ ...base, range: 'between', from: '24.11.2026', to: '' }, NB).filter;
  assert.deepEqual(between.range, { preset: 'between', from: '2026-11-24', to: null });
  assert.deepEqual(filterOf({ ...base, range: 'between', from: '', to: '30/11/2026' }, EN).filter.range.to, '2026-11-30');
  assert.deepEqual(filterOf({ ...base, range: 'between', from: '31.02.2026' }, NB), { error: 'from' });
  assert.deepEqual(filterOf({ ...base, range: 'between', to: 'i går' }, NB), { error: 'to' });
  const narrowed = filterOf({ ...base, lock: ' Bakdør ', person: '900 00 021', action: 'locked' }, NB).filter;
  assert.deepEqual(narrowed, { range: null, lock: 'Bakdør', person: '900 00 021', action: 'locked' });
  assert.equal(isFiltered(narrowed), true);
  assert.equal(typedDay('', NB), null);
});

test('an export is offered a file name any file system takes, whatever the lock is called', () => {
  assert.equal(exportFileName('Hendelseslogg Bod 12 2026-12-01', 'xlsx'), 'Hendelseslogg Bod 12 2026-12-01.xlsx');
  assert.equal(exportFileName('Event history ../../etc/passwd 2026-12-01', 'csv'), 'Event history etc passwd 2026-12-01.csv');
  assert.equal(exportFileName('a<b>c:d"e|f?g*h\\i', 'csv'), 'a b c d e f g h i.csv');
  assert.equal(exportFileName('Bod\u0000 12\u202E kcol', 'xlsx'), 'Bod 12 kcol.xlsx');
  assert.equal(exportFileName('...', 'csv'), 'Unloc Desk.csv');
  assert.equal(exportFileName('', 'xlsx'), 'Unloc Desk.xlsx');
  assert.equal([...exportFileName('Langtnavn'.repeat(50), 'xlsx')].length, 100 + '.xlsx'.length);
});

test('a file date is the local day, yyyy-mm-dd', () => {
  assert.equal(fileDate(new Date(2026, 0, 2, 23, 59)), '2026-01-02');
});

/** A question whose answer the test gives when it likes, and what it was asked with. */
function pending() {
  const asked = [];
  let answer;
  const ask = (filter) => {
    asked.push(filter);
    return new Promise((resolve, reject) => { answer = { resolve, reject }; });
  };
  return { asked, ask, answer: () => answer };
}

test('an activity window is asked with the filter of the rows on screen, not the one being typed', async () => {
  const shown = new ShownFilter();
  const bakdor = { lock: 'Bakdør' };
  shown.show(bakdor);
  // The user has typed a new person; its debounce has not asked yet. Scrolling asks a window:
  const question = pending();
  const window = shown.ask(question.ask);
  assert.deepEqual(question.asked, [bakdor]);
  question.answer().resolve({ rows: ['row of Bakdør'] });
  assert.deepEqual(await window, { rows: ['row of Bakdør'] });
});

test('a late activity window for a filter no longer shown is thrown away, its failure too', async () => {
  const shown = new ShownFilter();
  shown.show({ lock: 'Bakdør' });
  const late = pending();
  const lateWindow = shown.ask(late.ask);
  shown.show({ lock: 'Bakdør', person: 'Kari' }); // the debounced filter's count and rows came first
  late.answer().resolve({ rows: ['row of the old filter'] });
  assert.equal(await lateWindow, STALE);
  const failing = pending();
  const failingWindow = shown.ask(failing.ask);
  shown.forget();
  failing.answer().reject(new Error('offline'));
  assert.equal(await failingWindow, STALE);
  const current = pending();
  const currentWindow = shown.ask(current.ask);
  current.answer().reject(new Error('offline'));
  await assert.rejects(currentWindow, /offline/);
});

/** A text box as the Activity view's filter boxes are to its code: a value, and input events. */
function box() {
  const input = new EventTarget();
  input.value = '';
  input.type = (text) => {
    input.value = text;
    input.dispatchEvent(new Event('input'));
  };
  return input;
}

/**
 * The Activity view's filter with its lock and person boxes, asking `ask` (default: every filter has
 * 7 rows at once); `screen` is the filter whose rows are on screen. Commands sent to Rust are
 * caught in `sent` (the bridge ipc.js talks to).
 */
function activityFilters(ask = () => Promise.resolve({ total: 7, archived: 40, rows: [] })) {
  const lock = box();
  const person = box();
  const from = box();
  const sent = [];
  globalThis.__TAURI__ = {
    core: {
      invoke: async (command, args) => {
        sent.push({ command, args });
        return { path: args.path, rows: 7 };
      },
    },
  };
  const view = { screen: null };
  view.filters = new FilterQuery({
    typed: [lock, person, from],
    values: () => ({ range: from.value ? 'between' : 'all', from: from.value, to: '', lock: lock.value, person: person.value, action: 'all' }),
    parse: (values) => filterOf(values, NB),
    ask,
    show: ({ filter }) => { view.screen = filter; },
    failed: (error) => { throw error; },
  });
  return { lock, person, from, sent, view };
}

const EXPORT = { path: '/tmp/aktivitet.xlsx', format: 'xlsx', language: 'nb' };

test('an activity export clicked while typing waits for the debounce: the file and the screen have the typed filter', async () => {
  const { lock, sent, view } = activityFilters();
  lock.type('B'); // the first keystroke asks at once
  await Promise.resolve();
  assert.equal(view.screen.lock, 'B');
  lock.type('Bakdør'); // the rest waits 100 ms for the debounce; Export comes before it fires
  const done = await exportShown(view, EXPORT);
  assert.equal(done.rows, 7);
  const exported = sent.filter((s) => s.command === 'export_activity');
  assert.equal(exported.length, 1);
  assert.equal(exported[0].args.filter.lock, 'Bakdør');
  assert.equal(view.screen.lock, 'Bakdør', 'the rows on screen answer the exported filter');
  assert.deepEqual(view.filters.shown.values.lock, 'Bakdør', 'a printout names the exported filter');
});

test('an activity export waits for the answer of the typed filter that is on its way', async () => {
  const answers = [];
  const { person, sent, view } = activityFilters(() => new Promise((resolve) => answers.push(resolve)));
  person.type('Kari');
  const exporting = exportShown(view, EXPORT);
  exporting.catch(() => {}); // a failure is seen where it is awaited, below
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(sent.length, 0, 'nothing is written before the typed filter is on screen');
  assert.equal(answers.length, 1, 'the filter on its way is not asked twice');
  answers[0]({ total: 3, archived: 40, rows: [] });
  await exporting;
  assert.equal(sent[0].args.filter.person, 'Kari');
  assert.equal(view.screen.person, 'Kari');
});

test('an activity export with a day typed wrong writes the rows on screen, as their filter says', async () => {
  const { lock, from, sent, view } = activityFilters();
  lock.type('Bod 12');
  await Promise.resolve();
  from.type('31.02.2026');
  await exportShown(view, EXPORT);
  assert.deepEqual(sent[0].args.filter, { range: null, lock: 'Bod 12', person: '', action: null });
  assert.equal(view.screen, sent[0].args.filter);
});
test('an activity export waits for the newest answer when the sync asks the same filter again meanwhile', async () => {
  const answers = [];
  const { person, sent, view } = activityFilters(() => new Promise((resolve) => answers.push(resolve)));
  const page = { total: 3, archived: 40, rows: [] };
  person.value = 'Ola';
  view.filters.query({ reset: true });
  answers[0](page);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(view.screen.person, 'Ola');
  person.value = 'Kari';
  view.filters.query({ reset: true }); // asked, its answer on its way
  const exporting = exportShown(view, EXPORT);
  exporting.catch(() => {}); // a failure is seen where it is awaited, below
  view.filters.query({ reset: false }); // the running sync's poll asks the same filter again
  answers[1](page); // the older answer comes and is dropped: a newer question is out
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(sent.length, 0, 'nothing is written while the newest answer is on its way');
  answers[2](page);
  await exporting;
  assert.equal(sent.length, 1);
  assert.equal(sent[0].args.filter.person, 'Kari', 'the export answers the filter on screen, not the one before');
  assert.equal(view.screen.person, 'Kari');
});
/** A table cell as the fill functions see it: text, attributes, data-*. */
function cell() {
  return { textContent: '', dataset: {}, attributes: {}, setAttribute(name, value) { this.attributes[name] = value; } };
}

test('an event cell says when in short, the date, time and zone in its tooltip, in the language read', () => {
  i18n.setLanguage('nb');
  try {
    const td = cell();
    fillTimeCell(td, '2026-11-26T13:05:00.000Z');
    assert.match(td.textContent, /26\.11\.2026.*\d\d:05/);
    assert.match(td.attributes.title, /2026.*\d\d:05/);
    assert.notEqual(td.attributes.title, td.textContent, 'the tooltip says more than the cell');
  } finally {
    i18n.setLanguage('en');
  }
});

test('a key\'s window breaks between a date and its time, never inside a date nor between a time and its zone', () => {
  // Local times: the same words in any time zone the test runs in.
  const start = new Date(2026, 11, 2, 17, 39), sameDay = new Date(2026, 11, 2, 19, 0), later = new Date(2026, 11, 5, 18, 0);
  const date = /^\d\d[./]\d\d[./]\d{4}$/;
  for (const language of ['nb', 'en']) {
    i18n.setLanguage(language);
    try {
      // Words are what lies between ordinary spaces: a narrow column breaks only there.
      const words = (text) => text.split(' ');
      const noEnd = words(formatWindow(start, null));
      assert.match(noEnd[0], date, `${language}: the date is a word of its own`);
      assert.match(noEnd[1], /^17:39\u00a0\S+$/, `${language}: the time and its zone stay together`);
      const range = words(formatWindow(start, later));
      assert.deepEqual(range.map((w) => date.test(w)), [true, false, false, true, false], `${language}: ${range.join(' | ')}`);
      assert.match(range[1], /^17:39$/, `${language}: the start's time`);
      assert.match(range.at(-1), /^18:00\u00a0\S+$/, `${language}: the end's time and the zone once, together`);
      const day = words(formatWindow(start, sameDay));
      assert.equal(day.length, 2, `${language}: ${day.join(' | ')}`);
      assert.match(day[0], date);
      assert.match(day[1], /^17:39–19:00\u00a0\S+$/, `${language}: the times and the zone in one piece`);
      const until = words(formatWindow(null, later));
      assert.match(until.at(-2), date);
      assert.match(until.at(-1), /^18:00\u00a0\S+$/);
    } finally {
      i18n.setLanguage('en');
    }
  }
});

test('a key status\'s tooltip holds the badge\'s word and the line under it whole, which a narrow column cuts', () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  const awaiting = { status: 'awaitingApproval', createdAt: '2026-12-02T09:55:00Z' };
  const seen = { status: 'seenInHistory', lastUsed: '2026-12-01T10:33:00Z' };
  for (const language of ['en', 'nb']) {
    i18n.setLanguage(language);
    try {
      const title = statusTitle('awaitingApproval', awaiting, now);
      assert.ok(title.includes(i18n.t('keyStatus.awaitingApproval')), `${language}: the status word in “${title}”`);
      assert.ok(title.includes(i18n.t('keys.waitingFor', { duration: '2 h 5 min' }).replace('2 h 5 min', '')), `${language}: the waited line in “${title}”`);
      assert.match(title, /2\s*t|2\s*h/, `${language}: how long, in “${title}”`);
      assert.match(title, /2026/, `${language}: since when, in “${title}”`);
      assert.ok(statusTitle('seenInHistory', seen, now).startsWith(i18n.t('keyStatus.seenInHistory')));
      assert.equal(statusTitle('active', { status: 'active' }, now), i18n.t('keyStatus.active'));
    } finally {
      i18n.setLanguage('en');
    }
  }
});

test('an event action is said in the user\'s words; one the app does not know shows as Unloc wrote it, as text, marked unknown', () => {
  assert.deepEqual([...KNOWN_ACTIONS], ['locked', 'unlocked']);
  i18n.setLanguage('nb');
  try {
    const words = ['locked', 'unlocked', '<b>jammed</b>', undefined].map((action) => {
      const td = cell();
      fillActionCell(td, action);
      return [td.textContent, td.dataset.action];
    });
    assert.deepEqual(words, [['Låst', 'locked'], ['Låst opp', 'unlocked'], ['<b>jammed</b>', 'unknown'], ['', 'unknown']]);
  } finally {
    i18n.setLanguage('en');
  }
  // The Activity table fills its time and action cells with them (the lock and person tables do too).
  const [time, action] = ACTIVITY_COLUMNS.map((column) => [cell(), column]).slice(0, 2);
  time[1].fill(time[0], { at: '2026-11-26T13:05:00.000Z' });
  action[1].fill(action[0], { action: 'unlocked' });
  assert.equal(action[0].textContent, 'Unlocked');
  assert.ok(time[0].attributes.title);
});

test('an event phone reads as people write it, whole in its tooltip; the staff\'s own use is said in words, muted', () => {
  const td = { ...cell(), classList: new Set() };
  td.classList.toggle = (name, on) => (on ? td.classList.add(name) : td.classList.delete(name));
  fillEventPhoneCell(td, '+4790000000');
  assert.deepEqual([td.textContent, td.attributes.title, td.classList.has('is-missing')], ['+47 900 00 000', '+47 900 00 000', false]);
  fillEventPhoneCell(td, '');
  assert.equal(td.attributes.title, td.textContent, 'a narrow column may cut it: the tooltip holds it');
  assert.ok(td.textContent.length > 0 && td.classList.has('is-missing'));
});

/**
 * A lock's history list as lock-export.js sees it: the events, the rows shown, and a search whose
 * typing waits for its debounce until settle(). Commands sent to Rust are caught in `sent`; `answer`
 * answers them (by default: as written, with the rows asked for).
 */
function historyList(count, { answer } = {}) {
  const sent = [];
  const answered = answer ?? ((command, args) => ({ path: args.path, rows: args.shown?.rows ?? 0 }));
  globalThis.__TAURI__ = { core: { invoke: async (command, args) => (sent.push({ command, args }), answered(command, args)) } };
  const items = Array.from({ length: count }, (_, i) => ({ id: `ev-${i}`, name: i % 10 === 0 ? 'Kari' : 'Ola' }));
  const list = { items, shown: items.map((_, i) => i), typed: '', loaded: true };
  list.settle = () => {
    // As ListView does: the arrays are replaced, never changed.
    list.shown = list.items.flatMap((item, i) => (item.name.includes(list.typed) ? [i] : []));
  };
  return { list, sent, view: { lock: { id: 'lock-1' }, list } };
}

/** The ids export_lock_history was asked to write, as Rust reads them, out of `history`. */
function idsWritten(shown, history) {
  if (shown.only) return shown.only;
  const hidden = new Set(shown.except);
  return history.map((item) => item.id).filter((id) => !hidden.has(id));
}

test('a lock history export clicked while typing writes only the events the search leaves on screen', async () => {
  const { list, sent, view } = historyList(340);
  list.typed = 'Kari'; // typed; its debounce has not filtered the table yet
  await exportShownHistory(view, EXPORT);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].command, 'export_lock_history');
  assert.equal(sent[0].args.lockId, 'lock-1');
  const { shown } = sent[0].args;
  assert.equal(shown.rows, 34);
  assert.deepEqual(shown.only, list.shown.map((i) => list.items[i].id), 'fewer shown than hidden: the shown ids');
  assert.equal(shown.except, undefined);
  assert.deepEqual(shown.history, historyDigest(list.items));
  assert.equal(sent[0].args.path, EXPORT.path);
});

test('a lock history with nothing hidden exports all of it, and only a filtered one says so in its file name', async () => {
  const { list, sent, view } = historyList(340);
  await exportShownHistory(view, EXPORT);
  assert.deepEqual(sent[0].args.shown.except, [], 'nothing hidden: no id sent');
  assert.equal(sent[0].args.shown.rows, 340);
  assert.equal(historyFileName('Bod 12', shownScope(list)), 'Event history Bod 12');
  list.typed = 'Kari';
  assert.equal(historyFileName('Bod 12', shownScope(list)), 'Event history Bod 12 (34 of 340 events)');
  // A long lock name gives way: the file name still says it is filtered, and the date after it stays.
  const long = 'Inngang '.repeat(20);
  const named = exportFileName(`${historyFileName(long, shownScope(list))} ${fileDate(new Date(2026, 11, 2))}`, 'csv');
  assert.match(named, /^Event history Inngang .*… \(34 of 340 events\) 2026-12-02\.csv$/);
  i18n.setLanguage('nb');
  try {
    assert.equal(historyFileName('Bod 12', shownScope(list)), 'Hendelseslogg Bod 12 (34 av 340 hendelser)');
  } finally {
    i18n.setLanguage('en');
  }
});

test('100,000 events with most of them shown send the hidden ids, not the shown ones', async () => {
  const { list, sent, view } = historyList(100_000);
  list.typed = 'Ola'; // 90,000 shown, 10,000 hidden
  await exportShownHistory(view, EXPORT);
  const { shown } = sent[0].args;
  assert.equal(shown.only, undefined, 'the 90,000 shown ids were sent');
  assert.equal(shown.except.length, 10_000);
  assert.equal(shown.rows, 90_000);
  assert.deepEqual(idsWritten(shown, list.items), list.shown.map((i) => list.items[i].id), 'the rows on screen');
  const size = JSON.stringify(sent[0].args).length;
  assert.ok(size < 200_000, `${size} characters over IPC`);
});

test('a history saved anew since the export was clicked is exported by the shown ids, or refused', async () => {
  // Rust refuses hidden ids of a history it no longer has (a conflict); the shown ids are then sent.
  const refuse = (command, args) => {
    if (args.shown.except) throw { kind: 'conflict', message: 'the saved history is not the one on screen' };
    return { path: args.path, rows: args.shown.only.length };
  };
  const { list, sent, view } = historyList(340, { answer: refuse });
  list.typed = 'Ola';
  const done = await exportShownHistory(view, EXPORT);
  assert.equal(sent.length, 2);
  assert.equal(sent[1].args.shown.only.length, 306);
  assert.deepEqual(sent[1].args.shown.only, idsWritten(sent[0].args.shown, list.items), 'the same rows asked for');
  assert.equal(done.rows, 306);
  // Any other refusal is the user's to see, not a reason to send again.
  const failing = historyList(340, { answer: () => Promise.reject({ kind: 'exportDiskFull', message: 'full' }) });
  failing.list.typed = 'Ola';
  await assert.rejects(exportShownHistory(failing.view, EXPORT), { kind: 'exportDiskFull' });
  assert.equal(failing.sent.length, 1);
});

test('the history digest is the one Rust computes (src-tauri/src/export/tables.rs)', () => {
  const ids = ['ev-1', 'ev-2', 'Bod ø 😀', ''];
  assert.deepEqual(historyDigest(ids.map((id) => ({ id }))), { count: 4, sum: '77af9f5d60e85241' });
  assert.deepEqual(historyDigest([...ids].reverse().map((id) => ({ id }))).sum, '77af9f5d60e85241');
});

/** The lock view's export buttons, status and error box (export-actions.js), without a browser. */
function exportButtons() {
  const node = (extra = {}) => ({ textContent: '', listeners: {}, replaceChildren() {}, focus() {}, addEventListener(type, fn) { this.listeners[type] = fn; }, ...extra });
  const csv = node({ dataset: { export: 'csv' }, disabled: false });
  const parts = { '[data-ref="exportStatus"]': node(), '[data-ref="exportError"]': node(), '[data-ref="exportScope"]': node({ hidden: true }) };
  const el = { querySelector: (sel) => parts[sel] ?? null, querySelectorAll: (sel) => (sel === '[data-export]' ? [csv] : []), append() {} };
  // The print sheet it makes (no printing here).
  globalThis.document.createElement ??= () => node();
  globalThis.window ??= { addEventListener() {} };
  return { el, csv, status: parts['[data-ref="exportStatus"]'] };
}

test('the live history arriving while the save dialog is open changes neither the name nor the rows', async () => {
  const dialogOpen = [];
  const { list, sent, view } = historyList(340, {
    answer: (command, args) => {
      if (command === 'choose_export_path') {
        dialogOpen.push(args.defaultName);
        // The live history arrives meanwhile: five more events, and the search filters them too.
        list.items = [...list.items, ...Array.from({ length: 5 }, (_, i) => ({ id: `new-${i}`, name: 'Kari' }))];
        list.settle();
        return `/tmp/${args.defaultName}`;
      }
      return { path: args.path, rows: args.shown.rows };
    },
  });
  const { el, csv, status } = exportButtons();
  Object.assign(view, { el, lock: { id: 'lock-1', name: 'Bod 12' } });
  wireLockExport(view);
  list.typed = 'Kari';
  await csv.listeners.click();
  assert.match(dialogOpen[0], /^Event history Bod 12 \(34 of 340 events\) /);
  const exported = sent.find((call) => call.command === 'export_lock_history').args.shown;
  assert.equal(exported.rows, 34, 'the rows the name says');
  assert.deepEqual(exported.only, Array.from({ length: 34 }, (_, i) => `ev-${i * 10}`), 'the rows shown when Export was clicked');
  assert.match(status.textContent, /^34 rows saved to /);
});

test('a lock history export clicked while the history is still loading writes the whole saved history', async () => {
  const { list, sent, view } = historyList(0);
  list.loaded = false; // "Loading…": no rows on screen yet, none hidden either
  const scope = shownScope(list);
  assert.equal(historyFileName('Bod 12', scope), 'Event history Bod 12');
  await exportShownHistory(view, EXPORT, scope);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].args.shown, null, 'the whole saved history, not an empty file');
});

test('another lock opened while the save dialog is open: the file is still the first lock’s history', async () => {
  const { list, sent, view } = historyList(340, {
    answer: (command, args) => {
      if (command === 'choose_export_path') {
        view.lock = { id: 'lock-2', name: 'Bod 13' }; // the dialog does not block the window
        return `/tmp/${args.defaultName}`;
      }
      return { path: args.path, rows: args.shown.rows };
    },
  });
  const { el, csv } = exportButtons();
  Object.assign(view, { el, lock: { id: 'lock-1', name: 'Bod 12' } });
  wireLockExport(view);
  list.typed = 'Kari';
  await csv.listeners.click();
  const exported = sent.find((call) => call.command === 'export_lock_history').args;
  assert.equal(exported.lockId, 'lock-1');
});

test('the note by the export buttons has a plural form, in English and Norwegian', () => {
  assert.equal(scopeNote(12, 340), 'Export and Print give only the 12 of 340 events shown (the search and filter above).');
  assert.equal(scopeNote(1, 340), 'Export and Print give only the one event shown, of 340 (the search and filter above).');
  assert.equal(scopeNote(0, 340), 'No events are shown (the search and filter above): Export and Print give an empty list.');
  assert.equal(scopeNote(1200, 3400), 'Export and Print give only the 1,200 of 3,400 events shown (the search and filter above).');
  i18n.setLanguage('nb');
  try {
    assert.equal(scopeNote(12, 340), 'Eksport og utskrift gir bare de 12 av 340 hendelsene som vises (søket og filteret over).');
    assert.equal(scopeNote(1, 340), 'Eksport og utskrift gir bare den ene hendelsen som vises, av 340 (søket og filteret over).');
    assert.equal(scopeNote(0, 340), 'Ingen hendelser vises (søket og filteret over): eksport og utskrift gir en tom liste.');
  } finally {
    i18n.setLanguage('en');
  }
});

// Sorting by text in the UI language (ui/js/collation.js), Norwegian and English; registered last:
// each sets the language it needs, and leaves English as the tests above expect.
collationTests(test, { collationRanks, orderByRank, compareText, useLanguage: (lang) => i18n.setLanguage(lang) });

let failed = 0;
for (const [name, fn] of tests) {
  try {
    await fn();
  } catch (error) {
    failed += 1;
    console.error(`FAILED ${name}\n  ${error.message.split('\n').join('\n  ')}`);
  }
}
if (failed) {
  console.error(`ui-units: ${failed} of ${tests.length} failed`);
  process.exit(1);
}
console.log(`ui-units: ${tests.length} passed`);
