export * from './errors/catalogue.js';
export * from './errors/manager-error.js';
export * from './errors/client-error.js';
