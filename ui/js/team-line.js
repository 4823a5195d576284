// The team line (#team-line, under the status banner): in team mode, whether this desk's team data
// is current. Shown only when it is not — with since when, why, how many of this desk's changes
// wait to be sent, and what to do. Rust says when the team database begins or stops answering
// (`team-changed`); the line then asks `get_team_status` again.

import * as ipc from './ipc.js';
import { fillNodes, onLanguageChange, t, tn } from './i18n.js';
import { formatClock, formatDateTimeLong } from './format.js';

const lineEl = document.getElementById('team-line');
let status = null;
let stops = [];
let asking = 0;

/** After sign-in: follow the team database's state. */
export function watchTeamLine() {
  stopTeamLine();
  stops = [
    ipc.onTeamChanged(() => refresh()),
    // A key written while the database is away joins the queue: the count on the line follows.
    ipc.onKeysChanged(() => {
      if (status?.state === 'notCurrent') refresh();
    }),
    onLanguageChange(() => render()),
  ];
  refresh();
}

/** On sign-out: hide the line and stop listening. */
export function stopTeamLine() {
  for (const stop of stops) stop();
  stops = [];
  asking += 1;
  status = null;
  render();
}

async function refresh() {
  const mine = ++asking;
  try {
    const next = await ipc.getTeamStatus();
    if (mine === asking) status = next;
  } catch (err) {
    console.warn('get_team_status failed', err);
  }
  render();
}

function render() {
  const show = Boolean(status?.linked && status.state === 'notCurrent');
  lineEl.hidden = !show;
  lineEl.setAttribute('data-team-state', status?.state ?? 'off');
  if (!show) {
    lineEl.replaceChildren();
    return;
  }
  const headline = document.createElement('p');
  headline.className = 'banner-headline';
  const since = document.createElement('time');
  since.setAttribute('datetime', status.since ?? '');
  since.setAttribute('title', status.since ? formatDateTimeLong(status.since) : '');
  since.textContent = status.since ? formatClock(status.since) : '';
  fillNodes(headline, 'team.line.notCurrent', { time: since });
  const why = document.createElement('p');
  why.className = 'banner-next';
  const problem = status.problem === 'unreachable' || !status.problem ? 'unreachable' : 'other';
  why.textContent = t(`team.line.why.${problem}`);
  const next = document.createElement('p');
  next.className = 'banner-next';
  next.textContent = status.queued > 0 ? tn('team.line.queued', status.queued) : t('team.line.keepsWorking');
  lineEl.replaceChildren(headline, why, next);
}
