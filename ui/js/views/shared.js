// Pieces the list views (locks, lock, keys, awaiting) share: the empty-state box, the load status around a
// table (progress, "Last updated", the error panel) and the debounced search box.

import { t } from '../i18n.js';
import { renderError } from '../errors.js';
import { formatClock, formatDateTimeLong } from '../format.js';

const SEARCH_DEBOUNCE_MS = 100;

/** An empty-state box (id for the tests) with a title, a text and a "Clear filters" button. */
export function createEmptyState(id, onClear) {
  const box = document.createElement('div');
  box.id = id;
  box.className = 'empty-state';
  const title = document.createElement('p');
  title.className = 'empty-title';
  const text = document.createElement('p');
  text.className = 'empty-text';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button';
  button.id = `${id}-clear`;
  button.addEventListener('click', onClear);
  const other = document.createElement('button');
  other.type = 'button';
  other.className = 'button';
  let onOther = null;
  other.addEventListener('click', () => onOther?.());
  const actions = document.createElement('div');
  actions.className = 'empty-actions';
  actions.append(button, other);
  box.append(title, text, actions);
  return {
    /** Show in container; withClear adds the "Clear filters" button, action {label, onClick} another one. */
    show(container, { title: titleText, text: bodyText, withClear, action }) {
      title.textContent = titleText;
      text.textContent = bodyText;
      button.textContent = t('action.clearFilters');
      button.hidden = !withClear;
      onOther = action?.onClick ?? null;
      other.textContent = action?.label ?? '';
      other.hidden = !action;
      if (!box.isConnected) container.append(box);
    },
    hide() {
      box.remove();
    },
  };
}

/**
 * Progress text, refresh button state, "Last updated" and the error panel (only when there is
 * no data to show; with data on screen the shell's banner says it instead).
 */
export function renderLoadState(ui, s) {
  ui.view.classList.toggle('is-loading', s.loading && !s.loaded);
  ui.view.classList.toggle('has-data', s.loaded);
  ui.refresh.classList.toggle('is-busy', s.loading);
  // aria-disabled, not disabled: a focused button keeps its focus while it works.
  if (s.loading) ui.refresh.setAttribute('aria-disabled', 'true');
  else ui.refresh.removeAttribute('aria-disabled');
  ui.progress.textContent = s.loading ? t(s.loaded ? s.refreshingKey : s.loadingKey) : '';
  if (s.fetchedAt) {
    ui.updated.textContent = t('common.lastUpdated', { time: formatClock(s.fetchedAt) });
    ui.updated.setAttribute('title', formatDateTimeLong(s.fetchedAt));
  } else {
    ui.updated.textContent = '';
    ui.updated.removeAttribute('title');
  }
  if (s.loadError && !s.loaded) renderError(ui.error, s.loadError, { context: s.context, onRetry: s.onRetry });
  else ui.error.replaceChildren();
}

/**
 * Call onQuery(value) about 100 ms after the last keystroke ("change" too: some ways of clearing a
 * field fire only that). Returns a function that cancels a pending call.
 */
export function debounceSearch(input, onQuery) {
  let timer = 0;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(() => onQuery(input.value), SEARCH_DEBOUNCE_MS);
  };
  input.addEventListener('input', later);
  input.addEventListener('change', later);
  return () => clearTimeout(timer);
}
