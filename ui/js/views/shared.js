// Pieces the list views share (through list-view.js): the empty-state box and the debounced search box.

import { t } from '../i18n.js';

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
