export * from './span-data.js';
