#!/usr/bin/env node
// docs/errors.md from core's error catalogue (part of `npm run docs`; a core test compares the committed file).
import { writeFileSync } from 'node:fs';
import { renderErrorCatalogue } from '../packages/core/dist/index.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorCatalogue());
console.log('docs/errors.md written');
