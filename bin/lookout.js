#!/usr/bin/env node
// Plain JavaScript so that nothing is type-stripped before the code cache is on:
// the first TypeScript file stripped loads a compiler of some 15 MiB into every
// process, while files found in the cache are not stripped again.
import { enableCompileCache } from 'node:module';

// A start compiles some 900 modules; with V8's code cache (in the OS temp
// directory, keyed by each file's content) later starts take a third less time.
// Without a writable cache it simply compiles every time.
enableCompileCache();
// Heap sizes can only be given when V8 starts: under a container's memory limit the process starts
// again in place (same pid) with sizes that fit it.
const { relaunchArguments } = await import('../core/memory-limit.ts');
const relaunch = relaunchArguments(process);
if (relaunch) process.execve(process.execPath, relaunch.args, relaunch.env);
await import('./cli.ts');
