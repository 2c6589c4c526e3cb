// The UI and pages run in browsers; the rest of the client package (the reporter) runs in Node.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
