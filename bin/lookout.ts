#!/usr/bin/env node
import { enableCompileCache } from 'node:module';

// A start compiles some 900 modules; with V8's code cache (in the OS temp
// directory, keyed by each file's content) later starts take a third less time.
// Without a writable cache it simply compiles every time.
enableCompileCache();
await import('./cli.ts');
