// The one place that turns an AppError ({kind, message, field?, retryAfterSecs?}) — or anything
// else that was thrown — into words for people: a title and what to do next. The Rust `message` is
// developer text: it never shows on screen, only behind "Copy details for support".

import { t, tn } from './i18n.js';
import { copyButton } from './clipboard.js';
import { formatClock } from './format.js';

const ERROR_KINDS = [
  'unauthorized', 'lockedOut', 'forbidden', 'notFound', 'rateLimited', 'maintenance', 'server',
  'offline', 'timeout', 'invalidResponse', 'tooLarge', 'invalidInput', 'keychainUnavailable', 'notSignedIn',
  'settingsReset', 'storeReset', 'storeDamaged', 'storeBusy', 'storeFull', 'storeReadOnly', 'storeIo',
  'conflict', 'updateRejected', 'exportDiskFull', 'exportDenied', 'exportFailed', 'exportTooManyRows', 'internal',
];

const INPUT_FIELDS = ['partnerId', 'token', 'apiBase', 'language', 'msn', 'start', 'end', 'keyId', 'personName', 'personPhone', 'personNote', 'file'];

// Where the same kind means something more specific (catalog prefix per context and kind).
const CONTEXT_TEXT = {
  // At sign-in a lock-out follows wrong tokens typed here; signed in, it says what happens next.
  signin: { notFound: 'error.notFound.signin', forbidden: 'error.forbidden.signin', lockedOut: 'error.lockedOut.signin' },
  events: { notFound: 'error.notFound.lock', tooLarge: 'error.tooLarge.history' },
  // Signed in, but the keychain refused the token: this run works, the next start asks again.
  tokenNotSaved: { keychainUnavailable: 'error.keychainUnavailable.tokenNotSaved' },
  lockGone: { notFound: 'error.notFound.lockGone' },
  update: { offline: 'error.offline.update', notFound: 'error.notFound.update', internal: 'error.internal.update' },
  // A POST that timed out may still have made the key: say so, so nobody gets two keys.
  createKey: {
    forbidden: 'error.forbidden.key',
    notFound: 'error.notFound.lock',
    timeout: 'error.timeout.createKey',
  },
  revokeKey: { forbidden: 'error.forbidden.key', notFound: 'error.notFound.key' },
  addKey: { notFound: 'error.notFound.addKey', forbidden: 'error.forbidden.addKey' },
  savePerson: { conflict: 'error.conflict.person', notFound: 'error.notFound.person' },
  person: { notFound: 'error.notFound.person' },
  // A lock's history export: the rows on screen could not be written exactly (views/lock-export.js).
  export: { conflict: 'error.conflict.export' },
};

/** Any thrown value as an AppError with a known kind (unknown kinds become "internal"). */
export function normalizeError(raw) {
  if (raw && typeof raw === 'object' && ERROR_KINDS.includes(raw.kind)) return raw;
  if (raw && typeof raw === 'object' && typeof raw.kind === 'string') {
    return { kind: 'internal', message: `${raw.kind}: ${raw.message ?? ''}` };
  }
  const message = raw instanceof Error ? raw.message : typeof raw === 'string' ? raw : '';
  return { kind: 'internal', message };
}

/** True for problems where data already on screen should stay, marked as not current. */
export function isConnectionProblem(raw) {
  const kind = normalizeError(raw).kind;
  return kind === 'offline' || kind === 'timeout';
}

/** True when the only way on is the sign-in screen. */
export function needsSignIn(raw) {
  const kind = normalizeError(raw).kind;
  return kind === 'unauthorized' || kind === 'notSignedIn';
}

const LONG_PAUSE_KINDS = ['rateLimited', 'maintenance', 'lockedOut'];

function waitText(seconds) {
  const secs = Math.ceil(seconds);
  return secs >= 120
    ? tn('error.rateLimited.waitMinutes', Math.ceil(secs / 60))
    : tn('error.rateLimited.waitSeconds', secs);
}

/**
 * Words for an error. context: "signin" | "locks" | "events" | "settings" | "signout" | "createKey" |
 * "revokeKey" | "addKey" | "keys" | undefined.
 * Returns {kind, field, title, action, details}; field names the form field to mark, if any.
 */
export function describeError(raw, context) {
  const err = normalizeError(raw);
  const kind = err.kind;
  let prefix = `error.${kind}`;
  let field = INPUT_FIELDS.includes(err.field) ? err.field : undefined;
  if (kind === 'invalidInput') prefix = field ? `error.invalidInput.${field}` : 'error.invalidInput';
  const special = CONTEXT_TEXT[context]?.[kind];
  if (special) prefix = special;
  if (context === 'signin' && kind === 'notFound') field = 'partnerId';
  if (context === 'signin' && kind === 'unauthorized') field = 'token';

  let action = t(`${prefix}.action`);
  if (kind === 'rateLimited' && err.retryAfterSecs > 0) action = waitText(err.retryAfterSecs);
  // A long pause (every request waits for it): say when it ends.
  if (LONG_PAUSE_KINDS.includes(kind) && err.retryAfterSecs > 10) {
    action = `${action} ${t('error.pausedUntil', { time: formatClock(new Date(Date.now() + err.retryAfterSecs * 1000)) })}`;
  }

  const message = typeof err.message === 'string' ? err.message.trim() : '';
  return {
    kind,
    field,
    title: t(`${prefix}.title`),
    action,
    // For support only (copied, never shown): what happened in the words of the code.
    details: message ? `${kind}${context ? ` (${context})` : ''}: ${message}` : '',
  };
}

/** The "Copy details for support" button and its status line, or [] when there is nothing to copy. */
export function supportCopy(info) {
  if (!info.details) return [];
  return copyButton({ label: t('error.copyDetails'), text: () => info.details, className: 'error-copy' });
}

/**
 * Fill container with the described error (title, next step, "Copy details for support") as text nodes.
 * With onRetry a "Try again" button is added (never for lockedOut: retrying too soon does not help).
 * Returns the description.
 */
export function renderError(container, raw, { context, onRetry } = {}) {
  const info = describeError(raw, context);
  const title = document.createElement('p');
  title.className = 'error-title';
  title.textContent = info.title;
  const action = document.createElement('p');
  action.className = 'error-action';
  action.textContent = info.action;
  const nodes = [title, action];
  const buttons = document.createElement('p');
  buttons.className = 'error-buttons';
  if (onRetry && info.kind !== 'lockedOut') {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button';
    button.textContent = t('action.retry');
    button.addEventListener('click', onRetry);
    buttons.append(button);
  }
  buttons.append(...supportCopy(info));
  if (buttons.childElementCount) nodes.push(buttons);
  container.replaceChildren(...nodes);
  return info;
}
