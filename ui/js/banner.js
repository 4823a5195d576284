// The shell's status banner (#status-banner, role=status): offline or stale data, problems with
// a retry or a dismiss button. One banner at a time; `source` says which part of the app set it.

import { fillNodes, t } from './i18n.js';
import { describeError, isConnectionProblem, normalizeError, supportCopy } from './errors.js';
import { formatClock, formatDateTimeLong } from './format.js';

const bannerEl = document.getElementById('status-banner');
let banner = null; // the spec on screen

/** Who set the banner on screen ("startup", "locks", "keys", …), or null. */
export function bannerSource() {
  return banner?.source ?? null;
}

/**
 * spec: {source, error, since?, onRetry?, context?, dismissible?}
 * With `since` (the time of the data on screen) the banner says the data is not current.
 */
export function setBanner(spec) {
  banner = spec;
  renderBanner();
}

export function clearBanner(source) {
  if (!banner || (source && banner.source !== source)) return;
  banner = null;
  renderBanner();
}

export function renderBanner() {
  const spec = banner;
  const el = bannerEl;
  if (!spec) {
    el.replaceChildren();
    el.className = 'status-banner';
    return;
  }
  const err = normalizeError(spec.error);
  const info = describeError(err, spec.context);
  const text = document.createElement('div');
  text.className = 'banner-text';
  const headline = document.createElement('p');
  headline.className = 'banner-headline';
  const next = document.createElement('p');
  next.className = 'banner-next';
  let tone = 'warning';

  if (spec.since && isConnectionProblem(err)) {
    tone = 'offline';
    fillNodes(headline, 'banner.offline', { time: timeElement(spec.since) });
    next.textContent = `${info.title}. ${info.action}`;
  } else if (spec.since && err.kind !== 'lockedOut') {
    fillNodes(headline, 'banner.stale', { time: timeElement(spec.since) });
    next.textContent = `${info.title}. ${info.action}`;
  } else {
    tone = err.kind === 'settingsReset' ? 'info' : 'warning';
    headline.textContent = info.title;
    next.textContent = info.action;
  }
  text.append(headline, next);
  const actions = document.createElement('div');
  actions.className = 'banner-actions';
  // lockedOut: no retry button — trying again before the block ends does not help.
  if (spec.onRetry && err.kind !== 'lockedOut') {
    actions.append(bannerButton(t('action.retry'), () => spec.onRetry()));
  }
  if (spec.dismissible) {
    actions.append(bannerButton(t('action.dismiss'), () => clearBanner(spec.source)));
  }
  actions.append(...supportCopy(info));
  // Pressing Retry re-renders the banner: keep the keyboard focus on its button.
  const hadFocus = el.contains(document.activeElement);
  el.className = `status-banner banner-${tone}`;
  el.replaceChildren(text, ...(actions.childElementCount ? [actions] : []));
  if (hadFocus) actions.querySelector('button')?.focus();
}

function timeElement(iso) {
  const time = document.createElement('time');
  time.setAttribute('datetime', iso);
  time.setAttribute('title', formatDateTimeLong(iso));
  time.textContent = formatClock(iso);
  return time;
}

export function bannerButton(label, onClick) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button button-small';
  button.textContent = label;
  button.addEventListener('click', onClick);
  return button;
}
