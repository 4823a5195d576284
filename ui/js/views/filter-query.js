// The Activity view's filter controls, asked in turn: the typed boxes debounced (shared.js), each
// filter's count and first rows asked once, an answer that comes after a newer question dropped, and
// the filter whose answer is on screen kept with the control values it was read from.
//
// Export and print ask settled(): typing that still waits for its debounce (or an answer still on
// its way) is settled first, and then the filter on screen is used. A user who types "Kari" and
// clicks Export at once means Kari, and once settled the screen shows Kari too: the file, the
// printout and the rows and count on screen all answer one filter. A control that cannot be read
// (a day typed wrong) changes nothing on screen, so what is shown is still what is exported.
// Pure: the boxes need only `value` and addEventListener, so node's unit tests run it.

import { debounceSearch } from './shared.js';

export class FilterQuery {
  /**
   * @param {object} o
   * @param {{value: string, addEventListener: Function}[]} o.typed  the boxes whose typing is debounced
   * @param {() => object} o.values  the controls' values now (plain strings)
   * @param {(values: object) => {filter?: object, error?: string}} o.parse  a filter, or why not
   * @param {(filter: object) => Promise<object>} o.ask  the count and first rows of filter
   * @param {(answer: {filter: object, values: object, page: object}, o: {reset: boolean}) => void} o.show
   * @param {(error: object) => void} o.failed  the latest question failed
   */
  constructor(o) {
    this.o = o;
    this.asked = 0; // the latest question: older answers are dropped
    this.latest = null; // {values, answered}: what was asked last, and when its answer is in
    this.shown = null; // {filter, values}: the filter whose answer is on screen
    this.cancels = o.typed.map((input) => debounceSearch(input, () => this.query({ reset: true })));
  }

  /** Ask for the filter the controls say now; resolves once its answer is shown (or dropped, or failed). */
  query({ reset }) {
    const values = this.o.values();
    const parsed = this.o.parse(values);
    if (parsed.error) return Promise.resolve();
    const ticket = ++this.asked;
    const answered = this.o.ask(parsed.filter).then(
      (page) => {
        if (ticket !== this.asked) return;
        this.shown = { filter: parsed.filter, values };
        this.o.show({ filter: parsed.filter, values, page }, { reset });
      },
      (error) => {
        if (ticket === this.asked) this.o.failed(error);
      },
    );
    this.latest = { values, answered };
    return answered;
  }

  /** The filter on screen once the controls' latest values are asked and answered: {filter, values} | null. */
  async settled() {
    this.cancels.forEach((cancel) => cancel());
    if (!this.latest || !sameValues(this.o.values(), this.latest.values)) this.query({ reset: true });
    // A newer question may go out meanwhile (a running sync's poll asks the same filter again) and
    // drop the answer awaited here: wait on until the latest question's answer is in.
    for (let latest = this.latest; latest; latest = this.latest) {
      await latest.answered;
      if (latest === this.latest) break;
    }
    return this.shown;
  }

  /** No typing waits any more (the view goes away). */
  destroy() {
    this.cancels.forEach((cancel) => cancel());
  }
}

function sameValues(a, b) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
