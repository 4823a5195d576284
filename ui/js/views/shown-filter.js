// Which filter the rows on screen answer. The Activity table asks for more rows a window at a time
// as it scrolls; each window must be asked with the filter of the rows already shown, not with what
// the filter controls say now (while the user types, the new filter waits for its debounce and its
// count), and an answer that comes after a newer filter was shown belongs to no list on screen.
// Pure: no DOM, so node's unit tests run it.

/** Thrown away: the answer to a question about a filter no longer shown. */
export const STALE = Symbol('stale');

export class ShownFilter {
  constructor() {
    this.generation = 0;
    this.filter = null;
  }

  /** The rows of `filter` are now on screen: windows from now on are asked with it. */
  show(filter) {
    this.generation += 1;
    this.filter = filter;
  }

  /** Nothing older may land any more (the view goes away). */
  forget() {
    this.generation += 1;
  }

  /**
   * `ask(filter)` with the shown filter; its answer, or STALE when another filter was shown (or the
   * rows forgotten) before it came. A failure is thrown only while the filter is still shown.
   */
  async ask(ask) {
    const generation = this.generation;
    try {
      const answer = await ask(this.filter);
      return generation === this.generation ? answer : STALE;
    } catch (error) {
      if (generation !== this.generation) return STALE;
      throw error;
    }
  }
}
