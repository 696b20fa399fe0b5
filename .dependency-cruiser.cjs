/**
 * `npm run lint`'s import check (dependency-cruiser): no module may import
 * itself back through any chain of imports, type-only imports included.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'An import cycle: the modules on it cannot be read, tested or loaded one without the other. Move what they share into a module of its own.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|test/package/fixtures)/' },
    // Type-only imports count: a cycle of types is a cycle of concepts.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
