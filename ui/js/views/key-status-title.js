// The tooltip of a key's status cell, apart from the DOM so node can test it: the badge's word and the
// line under it, whole, since a narrow status column cuts them ("! Awaiting owner ap…").

import { t } from '../i18n.js';
import { formatDateTimeLong, formatDuration } from '../format.js';

/** Since when the key has waited for the owner (null when unknown). */
export function waitingSince(key) {
  return key.waitingSince ?? key.createdAt ?? key.firstSeen ?? null;
}

/** Milliseconds the key has waited for the owner's approval (0 when unknown). */
export function waitedMs(key, now = Date.now()) {
  const since = Date.parse(waitingSince(key) ?? '');
  return Number.isNaN(since) ? 0 : Math.max(0, now - since);
}

/** "Awaiting owner approval for 2 h 5 min (since …)", "Seen in history — last used …", or the status word. */
export function statusTitle(status, key, now = Date.now()) {
  const word = t(`keyStatus.${status}`);
  if (status === 'awaitingApproval' && waitingSince(key)) {
    return t('keys.awaitingTitle', {
      status: word,
      waited: t('keys.waitingFor', { duration: formatDuration(waitedMs(key, now)) }),
      time: formatDateTimeLong(waitingSince(key)),
    });
  }
  if (status === 'seenInHistory' && key.lastUsed) return `${word} ${t('keys.lastUsed', { time: formatDateTimeLong(key.lastUsed) })}`;
  return word;
}
