// The people directory (Person, docs/architecture.md section 8) for every view: loaded once per
// session from list_people and changed by the People views. Views look names up by phone here and
// subscribe to changes; nothing here touches the DOM.

import * as ipc from './ipc.js';

let people = []; // Person[], by name
const byPhone = new Map(); // E.164 → Person
const listeners = new Set();
let session = 0; // bumped on start/stop: late answers of an old session are dropped

function index(list) {
  people = list.filter((p) => p && typeof p.phone === 'string' && typeof p.name === 'string');
  people.sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
  byPhone.clear();
  for (const person of people) byPhone.set(person.phone, person);
  for (const fn of listeners) {
    try {
      fn();
    } catch (err) {
      console.error(err);
    }
  }
}

/** Subscribe to any change of the directory. Returns an unsubscribe function. */
export function onPeople(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

let stopListening = null;

/** After sign-in: load the directory, and again whenever another desk changed it (team mode). */
export function startPeopleStore() {
  session += 1;
  stopListening ??= ipc.onPeopleChanged(() => reloadPeople().catch((err) => console.error(err)));
  return reloadPeople();
}

/** On sign-out: forget it (the next partner has other people). */
export function stopPeopleStore() {
  session += 1;
  index([]);
}

export async function reloadPeople() {
  const mine = session;
  const list = await ipc.listPeople();
  if (mine === session) index(Array.isArray(list) ? list : []);
}

export function allPeople() {
  return people;
}

/** The person with this E.164 number, or undefined. */
export function personFor(msn) {
  return typeof msn === 'string' && msn ? byPhone.get(msn) : undefined;
}

export function personById(id) {
  return people.find((p) => p.id === id);
}

/** A person saved just now (added or changed). */
export function rememberPerson(person) {
  index([...people.filter((p) => p.id !== person.id), person]);
}

export function forgetPerson(id) {
  index(people.filter((p) => p.id !== id));
}
