#!/usr/bin/env node
// The binary. Its only static import sets the V8 heap up; everything else is
// loaded afterwards, so that even the loading of the modules (their source
// text, the parsers' work) runs under that setting (young-generation.ts).
import './young-generation.js';

await import('./entry.js');
