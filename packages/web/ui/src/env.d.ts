// Vite bundles the CSS a module imports; TypeScript only needs to know such imports exist.
declare module '*.css';
