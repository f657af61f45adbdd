#!/usr/bin/env node
// Runs the TypeScript entry point through tsx (the packages ship their sources).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
