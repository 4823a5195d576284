//! ui-units.mjs's tests of sorting by text (ui/js/collation.js): the ranks and the order they give
//! must be exactly what comparing with the UI language's collator gives, in Norwegian (æ ø å after
//! z, "aa" as "å") and English, on names that trip up shortcuts.

import assert from 'node:assert/strict';

// Names a shortcut could get wrong: æøå and "aa", accents, case, numbers by value (also with
// leading zeros and inside words), empty and blank names, punctuation and spaces, ties.
const TRICKY = [
  'Bakdør', 'bakdor', 'Bakdor', 'BAKDØR', 'Ærlig', 'ærlig', 'Åpen', 'åpen', 'Aapen', 'Haakon', 'Håkon',
  'Zebra', 'zebra', 'Øst', 'Ost', 'Ö', 'Ä', 'Æ', 'Ø', 'Å', 'z', 'Z', 'aa', 'AA', 'Aa', 'ab', 'a',
  'Kontor 10', 'kontor 2', 'Kontor 2', 'Kontor 02', 'kontor 10', 'Kontor 1. etg', 'Kontor 10. etg',
  'Bod 9', 'Bod 10', 'Bod 100', 'Bod9', 'Bod 9a', 'Leilighet H0101', 'Leilighet H0201', 'H101',
  'Café', 'Cafe', 'café', 'Crème', 'Creme', 'naïve', 'naive', 'Ñandu', 'Nandu',
  '', ' ', '  ', 'Hovedinngang', 'Hovedinngang Storgata 4', 'Hovedinngang  Storgata 4', 'Hovedinngang-Storgata',
  'Port garasje', 'Port-garasje', 'Portgarasje', 'Port_garasje', '#1', '1', '01', '001', '10', '2',
  'a b', 'ab', 'a-b', 'a.b', "O'Brien", 'OBrien', 'Ørsta', 'Ørje', 'Ålesund', 'Aalesund', 'Älmhult',
  'x\u0301', 'ß', 'ss', 'SS', 'İ', 'ı', 'i', 'Ω', 'ω', '中', '😀', 'Teknisk rom', 'teknisk rom',
];

// 10,000 names as the simulator draws them (tests/sim/src/data.rs lock_name), with the tricky ones
// mixed in, in a fixed pseudo-random order.
function manyNames() {
  const streets = ['Storgata', 'Møllergata', 'Åsveien', 'Bjørnstjerne Bjørnsons gate', 'Kongens gate', 'Sjøgata'];
  let seed = 7;
  const next = (n) => {
    seed = (seed * 48271) % 2147483647;
    return seed % n;
  };
  const kinds = [
    () => 'Hovedinngang',
    () => `Bod ${1 + next(60)}`,
    () => `Kontor ${1 + next(6)}. etg`,
    () => 'Søppelrom',
    () => 'Bakdør',
    () => `Loftsbod ${1 + next(40)}`,
    () => `Hovedinngang ${streets[next(streets.length)]} ${1 + next(80)}`,
    () => `Leilighet H0${1 + next(5)}0${1 + next(3)}`,
    () => TRICKY[next(TRICKY.length)],
  ];
  return Array.from({ length: 10_000 }, () => kinds[next(kinds.length)]());
}

/** Registers the tests with ui-units.mjs's `test`; `useLanguage(lang)` switches the UI language. */
export function collationTests(test, { collationRanks, orderByRank, compareText, useLanguage }) {
  // What the ranks stand for: for every pair, the sign of the collator's comparison.
  const assertRanksCompare = (names, label) => {
    const ranks = collationRanks(names);
    assert.equal(ranks.length, names.length);
    const distinct = [...new Set(names)];
    const rankOf = new Map(names.map((name, i) => [name, ranks[i]]));
    for (const a of distinct) {
      for (const b of distinct) {
        const expected = Math.sign(compareText(a, b));
        assert.equal(Math.sign(rankOf.get(a) - rankOf.get(b)), expected, `${label}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      }
    }
    names.forEach((name, i) => assert.equal(ranks[i], rankOf.get(name), `${label}: the same name, the same rank`));
    return ranks;
  };
  // What the user sees: the stable sort by the collator, both ways.
  const assertOrder = (names, label) => {
    const ranks = collationRanks(names);
    for (const dir of [1, -1]) {
      const expected = names.map((_, i) => i).sort((a, b) => dir * compareText(names[a], names[b]));
      const got = orderByRank(ranks, dir);
      const firstDifference = got.findIndex((i, k) => i !== expected[k]);
      assert.equal(firstDifference, -1, `${label}, dir ${dir}: row ${firstDifference} is ${JSON.stringify(names[got[firstDifference]])}, the collator says ${JSON.stringify(names[expected[firstDifference]])}`);
    }
  };

  for (const lang of ['nb', 'en']) {
    test(`collation ranks stand for the collator's comparison of every pair of tricky names (${lang})`, () => {
      useLanguage(lang);
      assertRanksCompare(TRICKY, lang);
      assertRanksCompare([...TRICKY].reverse(), `${lang} reversed`);
    });

    test(`ordering by collation ranks is the collator's stable sort, tricky names and 10,000 drawn ones (${lang})`, () => {
      useLanguage(lang);
      assertOrder(TRICKY, `${lang} tricky`);
      assertOrder(manyNames(), `${lang} 10,000`);
      assertOrder(['Bod 2', 'Bod 2', 'bod 2', 'Bod 2'], `${lang} ties in index order`);
      assertOrder([], `${lang} none`);
    });
  }

  test('sorting names makes the collator alone: no date format, no region names (the webview pays for their data)', () => {
    const made = [];
    const real = { DateTimeFormat: Intl.DateTimeFormat, DisplayNames: Intl.DisplayNames, NumberFormat: Intl.NumberFormat };
    for (const [name, Real] of Object.entries(real)) {
      Intl[name] = function counted(...args) {
        made.push(name);
        return new Real(...args);
      };
    }
    try {
      useLanguage('en');
      useLanguage('nb'); // a new language: its formats are made afresh
      collationRanks(TRICKY);
    } finally {
      Object.assign(Intl, real);
    }
    assert.deepEqual(made, []);
  });

  test('in Norwegian æ ø å come after z, and "aa" sorts as å', () => {
    useLanguage('nb');
    const names = ['Åpen', 'Zebra', 'Øst', 'Ærlig', 'Aapen', 'Abc', 'Haakon', 'Håkon', 'Hb'];
    const order = orderByRank(collationRanks(names)).map((i) => names[i]);
    assert.deepEqual(order, ['Abc', 'Hb', 'Haakon', 'Håkon', 'Zebra', 'Ærlig', 'Øst', 'Åpen', 'Aapen']);
    useLanguage('en');
    const english = orderByRank(collationRanks(names)).map((i) => names[i]);
    assert.deepEqual(english, ['Aapen', 'Abc', 'Ærlig', 'Åpen', 'Haakon', 'Håkon', 'Hb', 'Øst', 'Zebra']);
  });
}
