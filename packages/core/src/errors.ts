export * from './errors/catalogue.js';
export * from './errors/manager-error.js';
export * from './errors/client-error.js';
export * from './errors/catalogue-doc.js';
