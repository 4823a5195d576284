// Translations: flat keys from ui/locales/{en,nb}.json, "{name}" placeholders, plural forms as
// "key.one" / "key.other", and data-i18n attributes for the static text in index.html.

const LANGUAGES = ['en', 'nb'];

const catalogs = {};
const listeners = new Set();
let language = 'en';
let pluralRules = null;
let systemLanguage = null; // Startup.systemLanguage: the OS language, when the Rust side knows it

/** Fetch both catalogs once (they are small); English is also the fallback for a missing key. */
export async function loadLocales() {
  await Promise.all(
    LANGUAGES.map(async (code) => {
      const res = await fetch(new URL(`../locales/${code}.json`, import.meta.url));
      if (!res.ok) throw new Error(`Could not load locale ${code}: HTTP ${res.status}`);
      catalogs[code] = await res.json();
    }),
  );
}

/** The OS languages: Startup.systemLanguage when known (a webview may not follow the OS), else the browser's list. */
function systemLanguages() {
  return systemLanguage ? [systemLanguage] : navigator.languages || [];
}

/** Remember Startup.systemLanguage (BCP 47, e.g. "nb-NO"; null when unknown). Call before setLanguage. */
export function setSystemLanguage(tag) {
  systemLanguage = typeof tag === 'string' && tag.trim() ? tag.trim().replace(/_/g, '-') : null;
}

/** The "language" setting ("system" | "en" | "nb") to the UI language ("en" | "nb"). */
function resolveLanguage(setting) {
  if (LANGUAGES.includes(setting)) return setting;
  // "system": nb/nn/no → Norwegian; the first language we have decides, anything else → English.
  for (const tag of systemLanguages()) {
    const primary = String(tag).toLowerCase().split('-')[0];
    if (primary === 'nb' || primary === 'nn' || primary === 'no') return 'nb';
    if (primary === 'en') return 'en';
  }
  return 'en';
}

/** The current UI language, "en" or "nb". */
export function getLanguage() {
  return language;
}

/** BCP 47 tags for Intl in the current language: the OS's own variant of it first. */
export function intlLocales() {
  return intlLocalesFor(language);
}

/** intlLocales for `lang` ("en" or "nb"), whatever the UI's language is now. */
export function intlLocalesFor(lang) {
  if (lang === 'nb') return ['nb-NO', 'nb', 'no'];
  const own = [...systemLanguages(), ...(navigator.languages || [])].find((tag) => /^en(-|$)/i.test(tag));
  // en-GB rather than en-US as the fallback: day-first dates and zone names like "CET".
  return own && own.toLowerCase() !== 'en' ? [own, 'en-GB'] : ['en-GB'];
}

/** Apply a language setting: updates <html lang>, then tells every listener to re-render. */
export function setLanguage(setting) {
  language = resolveLanguage(setting);
  pluralRules = null;
  document.documentElement.lang = language;
  for (const fn of listeners) fn(language);
}

/** Register a re-render callback for language changes. Returns an unsubscribe function. */
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function lookup(key) {
  const text = catalogs[language]?.[key] ?? catalogs.en?.[key];
  if (text === undefined) {
    console.warn(`i18n: missing key ${key}`);
    return key;
  }
  return text;
}

const PLACEHOLDER = /\{(\w+)\}/g;

/** Translate a key; {name} placeholders are replaced by String(params.name). */
export function t(key, params) {
  const text = lookup(key);
  if (!params) return text;
  return text.replace(PLACEHOLDER, (whole, name) => (name in params ? String(params[name]) : whole));
}

function pluralKey(key, count) {
  pluralRules ??= new Intl.PluralRules(intlLocales());
  const form = `${key}.${pluralRules.select(count)}`;
  const known = catalogs[language]?.[form] ?? catalogs.en?.[form];
  return known === undefined ? `${key}.other` : form;
}

/** Translate a plural key ("key.one" / "key.other") chosen by count; {count} is available. */
export function tn(key, count, params = {}) {
  return t(pluralKey(key, count), { count, ...params });
}

/**
 * Fill an element from a key whose placeholders may be DOM nodes, e.g.
 * fillNodes(p, 'locks.optInSummary', {count: spanWithTheNumber}, n). Text stays text.
 */
export function fillNodes(el, key, params, count) {
  const text = count === undefined ? lookup(key) : lookup(pluralKey(key, count));
  const parts = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    const value = params[m[1]];
    parts.push(value instanceof Node ? value : String(value ?? m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  el.replaceChildren(...parts);
}

/**
 * Fill static text under root: data-i18n="key" sets textContent;
 * data-i18n-attr="aria-label:key;placeholder:key2" sets attributes.
 */
export function applyI18n(root) {
  for (const el of withSelf(root, '[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of withSelf(root, '[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

function withSelf(root, selector) {
  const found = [...root.querySelectorAll(selector)];
  if (root instanceof Element && root.matches(selector)) found.unshift(root);
  return found;
}

/** Clone the first element of <template id=…> and fill its static text. */
export function fromTemplate(id) {
  const el = document.getElementById(id).content.firstElementChild.cloneNode(true);
  applyI18n(el);
  return el;
}
