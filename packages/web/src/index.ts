export { createWebApp, type WebAppOptions } from './app.js';
export { AuthStore, type AuthStoreOptions, checkUserName } from './auth/auth-store.js';
export { DEFAULT_SCRYPT, hashSecret, verifySecret } from './auth/password.js';
export { mayPredict, type Principal, ROLES, type Role, roleAllows } from './auth/roles.js';
export { CSRF_HEADER, SESSION_COOKIE } from './http-common.js';
export { type FieldError, type Problem, ProblemError, problemOf } from './problem.js';
export { startWebServer, type WebServer } from './server.js';
export { createServingApp, type ServingAppOptions } from './serving-app.js';
