#!/usr/bin/env node
// A committed launcher rather than dist/cli.js itself: package managers link bins at install time, before a
// workspace checkout has built dist/, and skip a bin whose file is missing.
import '../dist/cli.js';
