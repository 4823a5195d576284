// The search texts of a list's items, each distinct text kept once. 100,000 events of a few thousand
// people share a few thousand texts: kept once, they cost a few thousand strings instead of 100,000,
// and a search tests each distinct text once instead of once per item.
// No DOM here (node's unit tests load it).

export class SearchIndex {
  /**
   * @param {any[]} items
   * @param {(item: any, index: number) => string} textOf  the folded text the search words must all be in
   */
  constructor(items, textOf) {
    const ids = new Int32Array(items.length);
    const texts = [];
    const idOf = new Map();
    for (let i = 0; i < items.length; i++) {
      const text = textOf(items[i], i);
      let id = idOf.get(text);
      if (id === undefined) {
        id = texts.length;
        idOf.set(text, id);
        texts.push(text);
      }
      ids[i] = id;
    }
    this.ids = ids; // item index → index in texts
    this.texts = texts;
  }

  /** The text item i is found by. */
  textOf(i) {
    return this.texts[this.ids[i]];
  }

  /**
   * A test "does item i contain every word" for one search; each distinct text is tested the first
   * time an item of it is asked about, and remembered for the rest.
   */
  matcher(words) {
    const known = new Uint8Array(this.texts.length); // 0 not tested yet, 1 matches, 2 does not
    return (i) => {
      const id = this.ids[i];
      if (known[id] === 0) known[id] = containsAll(this.texts[id], words) ? 1 : 2;
      return known[id] === 1;
    };
  }
}

function containsAll(text, words) {
  for (const word of words) if (!text.includes(word)) return false;
  return true;
}
