// The pages run in browsers; the demo driver (src/demo) runs in Node.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
