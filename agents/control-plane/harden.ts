// Defence in depth against prototype pollution in the control-plane process (issue 24): the API
// server indexes objects with client-chosen keys everywhere (patches, apply, selectors), and the
// code reads and writes them as own properties (apiserver/safe-keys.ts). Should a path ever be
// missed, the shared prototypes still cannot gain members:
// - the __proto__ accessor is removed (what `node --disable-proto=delete` does), so
//   o["__proto__"] = v stores an ordinary key, as Go would, instead of replacing o's prototype;
// - Object.prototype, Array.prototype and Function.prototype refuse new members, so no
//   inherited "resources", "verbs" or "polluted" can ever appear on every object.
// They are not frozen: freezing makes their members read-only, and then an ordinary
// `fn.toString = ...` on a derived object throws (protobufjs' codegen does exactly that when
// the etcd client serializes its first request). Runs once every module is loaded.

let hardened = false;

export function hardenPrototypes(): void {
  if (hardened) return;
  hardened = true;
  delete (Object.prototype as { __proto__?: unknown }).__proto__;
  Object.preventExtensions(Object.prototype);
  Object.preventExtensions(Array.prototype);
  Object.preventExtensions(Function.prototype);
}
