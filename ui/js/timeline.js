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

/**
 * Runs fn once the frame after this task is drawn (an animation frame, then the first task after
 * it), or after `latestMs` if no frame comes first (a hidden window draws none). For work the first
 * screen does not need: started with the first rows, its requests and replies competed with WebKit
 * drawing them (docs/benchmarks.md, the cached start).
 */
export function afterNextFrame(fn, latestMs = 1000) {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    fn();
  };
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => setTimeout(run));
  setTimeout(run, latestMs);
}
