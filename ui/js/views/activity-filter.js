// The Activity view's filter controls → the ActivityFilter the Rust side reads (docs/architecture.md
// section 7), and the "from–to" days typed in the app's language. Days and weeks are resolved in Rust
// (the OS time zone, weeks from Monday), so the UI sends only a preset or two local days.

import { parseDateField } from '../date-field.js';

export const PRESETS = ['all', 'today', 'yesterday', 'thisWeek', 'lastWeek', 'thisMonth', 'lastMonth', 'between'];

const pad = (n) => String(n).padStart(2, '0');

/** A typed day ("24.11.2026", "2026-11-24") → "2026-11-24"; "" → null; anything else → undefined. */
export function typedDay(text, locales) {
  if (!String(text ?? '').trim()) return null;
  const date = parseDateField(text, locales);
  return date ? `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` : undefined;
}

/**
 * The filter of these control values, or {error: 'from' | 'to'} when a typed day cannot be read.
 * @param {{range: string, from: string, to: string, lock: string, person: string, action: string}} values
 */
export function filterOf(values, locales) {
  let range = null;
  if (values.range === 'between') {
    const from = typedDay(values.from, locales);
    const to = typedDay(values.to, locales);
    if (from === undefined) return { error: 'from' };
    if (to === undefined) return { error: 'to' };
    range = { preset: 'between', from, to };
  } else if (PRESETS.includes(values.range) && values.range !== 'all') {
    range = { preset: values.range };
  }
  return {
    filter: {
      range,
      lock: String(values.lock ?? '').trim(),
      person: String(values.person ?? '').trim(),
      action: values.action === 'locked' || values.action === 'unlocked' ? values.action : null,
    },
  };
}

/** True when the filter narrows anything (the empty state then offers "Clear filters"). */
export function isFiltered(filter) {
  return Boolean(filter.range || filter.lock || filter.person || filter.action);
}
