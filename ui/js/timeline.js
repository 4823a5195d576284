// The steps between a list's data reaching the page and its first rows on screen, on the page's
// performance timeline (User Timing measures `unloc:step:<list>:<step>`): the benchmark
// (tests/bench) reads them to split "first rows painted after the data arrives". Only the first
// time each step runs is measured: entries are kept for the page's lifetime, and later runs (each
// keystroke filters again) are not what the first screen waits for. A measure holds a step's name
// and its times, nothing from the data. No DOM here (node's unit tests load the lists' modules).

const measuredSteps = new Set();

/** Runs work() and returns its result; its first run under this name is measured. */
export function firstStep(name, work) {
  if (measuredSteps.has(name) || typeof performance?.measure !== 'function') return work();
  measuredSteps.add(name);
  const start = performance.now();
  try {
    return work();
  } finally {
    performance.measure(`unloc:step:${name}`, { start, end: performance.now() });
  }
}
