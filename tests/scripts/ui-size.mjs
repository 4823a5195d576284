//! Keeps the UI walkable: no JavaScript module in ui/js over MAX_MODULE_LINES lines and no function
//! (declaration, method or arrow with a body, nested ones included in their parent) over
//! MAX_FUNCTION_LINES lines. Run: `node tests/scripts/ui-size.mjs` (exit 1 and a list when over).
//! A small tokenizer, not a parser: it skips comments, strings, template literals and regular
//! expressions so their braces do not count, which is all the UI's plain ES modules need.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_MODULE_LINES = 300;
const MAX_FUNCTION_LINES = 80;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const UI_JS = join(ROOT, 'ui', 'js');
// A `(` after one of these opens a condition or a loop head, not a method's parameters.
const NOT_METHODS = new Set(['if', 'for', 'while', 'switch', 'catch', 'with', 'return', 'typeof', 'await']);
// After these a `/` starts a regular expression, not a division.
const REGEX_AFTER = new Set(['(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^', '=>', 'return', 'typeof', 'case', 'of', 'in']);

function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return jsFiles(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

/** Tokens that matter for blocks: identifiers/words, `=>` and single punctuation, each with its line. */
function tokenize(src) {
  const tokens = [];
  let line = 1;
  let i = 0;
  const templateDepth = []; // brace depth at which each open `${` returns to its template literal
  let braces = 0;
  const push = (text) => tokens.push({ text, line });
  const skipQuoted = (quote) => {
    for (i += 1; i < src.length && src[i] !== quote; i++) {
      if (src[i] === '\\') i += 1;
      if (src[i] === '\n') line += 1;
    }
    i += 1;
  };
  const skipTemplate = () => {
    // From just after a backtick (or a closing `}` of `${`) to the end of the literal or the next `${`.
    for (; i < src.length; i++) {
      if (src[i] === '\\') i += 1;
      else if (src[i] === '\n') line += 1;
      else if (src[i] === '`') return void (i += 1);
      else if (src[i] === '$' && src[i + 1] === '{') {
        templateDepth.push(braces);
        braces += 1;
        i += 2;
        return;
      }
    }
  };
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    if (c === '\n') { line += 1; i += 1; }
    else if (/\s/.test(c)) i += 1;
    else if (c === '/' && next === '/') { while (i < src.length && src[i] !== '\n') i += 1; }
    else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      for (; i < stop; i++) if (src[i] === '\n') line += 1;
    } else if (c === '"' || c === "'") { skipQuoted(c); push('str'); }
    else if (c === '`') { i += 1; skipTemplate(); push('str'); }
    else if (c === '/' && (tokens.length === 0 || REGEX_AFTER.has(tokens[tokens.length - 1].text))) {
      let inClass = false;
      for (i += 1; i < src.length; i++) {
        if (src[i] === '\\') i += 1;
        else if (src[i] === '[') inClass = true;
        else if (src[i] === ']') inClass = false;
        else if (src[i] === '/' && !inClass) break;
      }
      i += 1;
      while (/[a-z]/.test(src[i] ?? '')) i += 1;
      push('regex');
    } else if (/[A-Za-z_$0-9]/.test(c)) {
      const start = i;
      while (/[A-Za-z_$0-9.]/.test(src[i] ?? '') && !(src[i] === '.' && src[i + 1] === '.')) i += 1;
      // `a.b.c` becomes its last word: what precedes a `(` is what names it.
      push(src.slice(start, i).split('.').pop() || 'num');
    } else if (c === '=' && next === '>') { push('=>'); i += 2; }
    else if (c === '}' && templateDepth.length && templateDepth[templateDepth.length - 1] === braces - 1) {
      templateDepth.pop();
      braces -= 1;
      i += 1;
      skipTemplate();
    } else {
      if (c === '{') braces += 1;
      if (c === '}') braces -= 1;
      push(c);
      i += 1;
    }
  }
  return tokens;
}

/** Every function body in the file: {name, from, to} (line numbers, inclusive). */
function functions(tokens) {
  const openParens = [];
  const parenOpenOf = new Map(); // index of `)` → index of its `(`
  const openBraces = [];
  const found = [];
  tokens.forEach((tok, k) => {
    if (tok.text === '(') openParens.push(k);
    else if (tok.text === ')') parenOpenOf.set(k, openParens.pop());
    else if (tok.text === '{') openBraces.push({ k, name: functionName(tokens, k, parenOpenOf) });
    else if (tok.text === '}') {
      const open = openBraces.pop();
      if (open?.name) found.push({ name: open.name, from: tokens[open.k].line, to: tok.line });
    }
  });
  return found;
}

/** The function a `{` at index k opens, or null when it opens some other block. */
function functionName(tokens, k, parenOpenOf) {
  const before = tokens[k - 1]?.text;
  if (before === '=>') return `arrow function`;
  if (before !== ')') return null;
  const open = parenOpenOf.get(k - 1);
  const callee = tokens[open - 1]?.text;
  if (callee === 'function') return 'function';
  if (tokens[open - 2]?.text === 'function') return callee;
  if (callee && /^[A-Za-z_$][\w$]*$/.test(callee) && !NOT_METHODS.has(callee)) return callee;
  return null;
}

const problems = [];
for (const file of jsFiles(UI_JS).sort()) {
  const src = readFileSync(file, 'utf8');
  const name = relative(ROOT, file);
  const lines = src.split('\n').length - (src.endsWith('\n') ? 1 : 0);
  if (lines > MAX_MODULE_LINES) problems.push(`${name}: ${lines} lines (limit ${MAX_MODULE_LINES})`);
  for (const fn of functions(tokenize(src))) {
    const length = fn.to - fn.from + 1;
    if (length > MAX_FUNCTION_LINES) {
      problems.push(`${name}:${fn.from}: ${fn.name} is ${length} lines (limit ${MAX_FUNCTION_LINES})`);
    }
  }
}
if (problems.length) {
  console.error(`UI size limits exceeded:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`UI size limits hold: modules <= ${MAX_MODULE_LINES} lines, functions <= ${MAX_FUNCTION_LINES} lines.`);
