// Rewrites the generated part of docs/cli.md from the program (`npm run docs:cli`).
import { readFileSync, writeFileSync } from 'node:fs';
import { cliReference, REFERENCE_BEGIN, REFERENCE_END } from '../src/program/reference.js';

const file = new URL('../../../docs/cli.md', import.meta.url);
const text = readFileSync(file, 'utf8');
const begin = text.indexOf(REFERENCE_BEGIN);
const end = text.indexOf(REFERENCE_END);
const head = begin >= 0 ? text.slice(0, begin) : `${text.trimEnd()}\n\n`;
const tail = end >= 0 ? text.slice(end + REFERENCE_END.length) : '\n';
writeFileSync(file, `${head}${cliReference()}${tail}`);
console.log(`wrote ${file.pathname}`);
