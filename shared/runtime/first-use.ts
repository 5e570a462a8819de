/**
 * Something made on its first use instead of at import, once per container: a schema (zod
 * builds it at some CPU cost), or an AWS client loaded with `import()` on a rare path. A
 * cold start then pays only for what its first events need.
 */
export function builtOnFirstUse<Value>(build: () => Value): () => Value {
  let built: { readonly value: Value } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
