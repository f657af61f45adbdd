#!/usr/bin/env node
// The installed command: a file that exists before the build, so that npm links it at
// install time in a fresh checkout (dist/ is built by `prepare`, after the links are made).
import '../dist/main.js';
