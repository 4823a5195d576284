// Boot, the shell (header, nav with the awaiting-approval count, status banner, key notices),
// routing between views, global shortcuts.

import * as ipc from './ipc.js';
import { applyI18n, loadLocales, onLanguageChange, setLanguage, setSystemLanguage, t } from './i18n.js';
import { needsSignIn } from './errors.js';
import { readyFormatData } from './format.js';
import { isConfirmOpen } from './confirm.js';
import { isShortcutsOpen, openShortcuts } from './shortcuts.js';
import { stopKeyStore } from './key-store.js';
import { bannerSource, clearBanner, renderBanner, setBanner } from './banner.js';
import { clearKeyNotices, renderAwaitingCount, renderNotices, watchKeyNotices } from './key-notices.js';
import { createSignInView } from './views/signin.js';
import { createLocksView } from './views/locks.js';
import { createLockView } from './views/lock.js';
import { createKeysView } from './views/keys.js';
import { createAwaitingView } from './views/awaiting.js';
import { createSettingsView } from './views/settings.js';
import { createPeopleView } from './views/people.js';
import { createPersonView } from './views/person.js';
import { createActivityView } from './views/activity.js';
import { createVisitsView } from './views/visits.js';
import { stopPeopleStore } from './people-store.js';
import { startSessionStores } from './session-stores.js';
import { offeredUpdate, onUpdateOffer, watchUpdates } from './updates.js';

const els = {
  header: document.getElementById('app-header'),
  main: document.getElementById('main'),
  navLocks: document.getElementById('nav-locks'),
  navKeys: document.getElementById('nav-keys'),
  navAwaiting: document.getElementById('nav-awaiting'),
  navPeople: document.getElementById('nav-people'),
  navActivity: document.getElementById('nav-activity'),
  navSettings: document.getElementById('nav-settings'),
  partner: document.getElementById('shell-partner-id'),
  signout: document.getElementById('signout'),
  updateAvailable: document.getElementById('update-available'),
};

const state = {
  startup: null,
  settings: { partnerId: null, apiBase: null, language: 'system' },
  session: null, // {partnerId, apiBase} while signed in
  views: {}, // name → view; locks/lock views exist only while signed in
  current: null, // {name, view}
  signingOut: false,
};

/** What views may use of the shell. */
const shell = {
  get startup() {
    return state.startup;
  },
  get settings() {
    return state.settings;
  },
  get session() {
    return state.session;
  },
  navigate,
  signedIn,
  signOut,
  setBanner,
  clearBanner,
  updateTitle,
  /** Unloc answered 404 for a lock: drop it from the list and say so there. */
  lockGone(lock, error) {
    state.views.locks?.removeLock?.(lock.id);
    navigate('locks');
    setBanner({ source: 'locks', error, context: 'lockGone', dismissible: true });
  },
  /** If err means "sign in again", go to sign-in (partner id kept) and return true. */
  handleSignInError(err) {
    if (!needsSignIn(err)) return false;
    showSignIn({ error: err });
    return true;
  },
  /** Settings saved on the Rust side (set_keep_history): remember them. */
  settingsChanged(settings) {
    state.settings = { ...state.settings, ...settings };
  },
  /** After set_language: remember the settings and re-render everything in the new language. */
  languageChanged(settings) {
    state.settings = { ...state.settings, ...settings };
    setLanguage(state.settings.language);
  },
};

const FACTORIES = {
  signin: createSignInView,
  locks: createLocksView,
  lock: createLockView,
  keys: createKeysView,
  awaiting: createAwaitingView,
  people: createPeopleView,
  person: createPersonView,
  activity: createActivityView,
  visits: createVisitsView,
  settings: createSettingsView,
};
const SESSION_VIEWS = ['locks', 'lock', 'keys', 'awaiting', 'people', 'person', 'activity', 'visits', 'settings'];

function viewFor(name) {
  state.views[name] ??= FACTORIES[name](shell);
  return state.views[name];
}

function navigate(name, params = {}) {
  if (name !== 'signin' && !state.session) {
    showSignIn({});
    return;
  }
  const view = viewFor(name);
  const previous = state.current;
  if (previous && previous.view !== view) {
    previous.view.hide?.();
    // A notice from the last view does not describe the next one; startup notices stay.
    if (bannerSource() !== 'startup') clearBanner();
  }
  state.current = { name, view };
  if (!els.main.contains(view.el) || els.main.childElementCount !== 1) els.main.replaceChildren(view.el);
  els.header.hidden = name === 'signin';
  // A lock opened from the keys or awaiting list belongs to that section.
  // A person's page, and a lock opened from it, belong to People.
  const from = name === 'lock' ? (params.from ?? 'locks') : name;
  const section = { person: 'people', visits: 'activity' }[from] ?? from;
  const nav = [[els.navLocks, 'locks'], [els.navKeys, 'keys'], [els.navActivity, 'activity'], [els.navAwaiting, 'awaiting'], [els.navPeople, 'people'], [els.navSettings, 'settings']];
  for (const [button, target] of nav) {
    if (section === target) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  view.show(params);
  updateTitle();
}

function updateTitle() {
  const viewTitle = state.current?.view.title?.();
  document.title = viewTitle ? t('app.windowTitle', { view: viewTitle }) : t('app.name');
}

function dropSessionViews() {
  stopKeyStore();
  stopPeopleStore();
  for (const name of SESSION_VIEWS) {
    state.views[name]?.destroy?.();
    delete state.views[name];
  }
  clearKeyNotices();
}

/** Show sign-in; the partner id stays, the session and every partner's data on screen go. */
function showSignIn({ error = null, context = 'signin' }) {
  const partnerId = state.session?.partnerId ?? state.settings.partnerId ?? '';
  state.session = null;
  dropSessionViews();
  if (bannerSource() !== 'startup') clearBanner();
  navigate('signin', { partnerId, apiBase: state.settings.apiBase ?? '', error, context });
}

function signedIn(reply) {
  // The locks page that checked the token fills the list; the session keeps the rest.
  const { locksPage, ...session } = reply;
  state.session = session;
  const defaultBase = state.startup?.defaultApiBase;
  state.settings = {
    ...state.settings,
    partnerId: session.partnerId,
    apiBase: session.apiBase && session.apiBase !== defaultBase ? session.apiBase : null,
  };
  clearBanner('startup');
  els.partner.textContent = session.partnerId;
  els.partner.title = session.partnerId;
  // The known keys and the people's names, once the first rows are drawn.
  startSessionStores(() => state.session === session, (err) => showSignIn({ error: err }));
  // Focus on the heading: a focused text field costs idle CPU (its caret; docs/benchmarks.md).
  navigate('locks', { page: locksPage });
  if (session.problem) {
    setBanner({ source: 'startup', error: session.problem, context: 'tokenNotSaved', dismissible: true });
  }
}

async function signOut() {
  if (state.signingOut) return;
  state.signingOut = true;
  els.signout.setAttribute('aria-disabled', 'true');
  let error = null;
  try {
    await ipc.signOut();
  } catch (err) {
    // Already signed out on the Rust side is what we wanted anyway.
    if (!needsSignIn(err)) error = err;
  } finally {
    state.signingOut = false;
    els.signout.removeAttribute('aria-disabled');
  }
  showSignIn({ error, context: 'signout' });
}

// ---- keyboard ---------------------------------------------------------------------------------

function isEditable(node) {
  return node instanceof HTMLElement && (node.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(node.tagName));
}

function onKeyDown(e) {
  const view = state.current?.view;
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  // The dialogs are modal: Esc is their own "no"/"close", and nothing underneath should move.
  if (isConfirmOpen() || isShortcutsOpen()) {
    if (key === 'F5' || (mod && !e.altKey && key === 'r')) e.preventDefault();
    return;
  }
  // F5 / Ctrl+R would reload the whole webview and lose the session state on screen.
  if (key === 'F5' || (mod && !e.altKey && key === 'r')) {
    e.preventDefault();
    if (!e.repeat) view?.refresh?.();
    return;
  }
  if ((mod && !e.altKey && !e.shiftKey && key === 'f') || (key === '/' && !mod && !e.altKey && !isEditable(e.target))) {
    if (view?.focusSearch) {
      e.preventDefault();
      view.focusSearch();
    }
    return;
  }
  if (key === '?' && !mod && !e.altKey && !isEditable(e.target)) {
    e.preventDefault();
    openShortcuts();
    return;
  }
  if (key === 'Escape' && !e.defaultPrevented) view?.onEscape?.(e);
}

// ---- boot -------------------------------------------------------------------------------------

function wireShell() {
  watchKeyNotices(() => Boolean(state.session));
  const navigation = { navLocks: 'locks', navKeys: 'keys', navAwaiting: 'awaiting', navPeople: 'people', navActivity: 'activity', navSettings: 'settings' };
  for (const [button, route] of Object.entries(navigation)) els[button].addEventListener('click', () => navigate(route));
  els.signout.addEventListener('click', () => signOut());
  // An offered update shows as a header button that leads to Settings, where it is installed.
  els.updateAvailable.addEventListener('click', () => navigate('settings'));
  onUpdateOffer(() => {
    els.updateAvailable.hidden = !offeredUpdate();
  });
  watchUpdates();
  document.addEventListener('keydown', onKeyDown);
  onLanguageChange(() => {
    applyI18n(els.header);
    applyI18n(document.getElementById('shortcuts-dialog'));
    for (const view of Object.values(state.views)) {
      applyI18n(view.el);
      view.applyLanguage?.();
    }
    renderBanner();
    renderAwaitingCount();
    renderNotices();
    updateTitle();
  });
}

async function boot() {
  wireShell();
  const replies = Promise.allSettled([loadLocales(), ipc.getStartup()]);
  readyFormatData();
  const [locales, startup] = await replies;
  if (locales.status === 'rejected') console.error(locales.reason);
  let bootError = null;
  if (startup.status === 'fulfilled' && startup.value) {
    state.startup = startup.value;
    state.settings = { ...state.settings, ...startup.value.settings };
  } else {
    bootError = startup.reason ?? { kind: 'internal', message: 'get_startup returned nothing' };
  }
  setSystemLanguage(state.startup?.systemLanguage);
  setLanguage(state.settings.language);

  const problem = state.startup?.problem;
  // Unloc refused the kept token while the app started: told at sign-in, as any 401 is.
  const refused = !state.startup?.signedIn && needsSignIn(problem);
  if (state.startup?.signedIn && state.settings.partnerId) {
    // The saved locks came with the reply: the list shows them at once, then asks Unloc.
    const { cachedLocks: locksPage, ...startup } = state.startup;
    state.startup = startup;
    signedIn({ partnerId: state.settings.partnerId, apiBase: state.settings.apiBase || startup.defaultApiBase, locksPage });
  } else {
    showSignIn(refused ? { error: problem } : { error: bootError, context: 'startup' });
  }
  // After the first view is up: a startup notice stays until dismissed or until a sign-in.
  if (problem && !refused) setBanner({ source: 'startup', error: problem, dismissible: true });
}

boot();
