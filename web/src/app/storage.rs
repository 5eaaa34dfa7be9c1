//! The files a user opened, kept in the browser's own storage (IndexedDB, database
//! `squadkit`, store `files`) so that a reload reopens them; `clear` forgets them all. Nothing
//! leaves the browser. Keys name the slot a file was opened in (`dataset`, `predictions-a`,
//! `na-b`, `tokenizer/0`, `metrics/run.jsonl`, ...); [`restore_order`] is the order a reload
//! opens them in. Outside wasm (the native tests) nothing is stored.

use super::Which;

pub const DATASET: &str = "dataset";

pub fn predictions(which: Which) -> &'static str {
    match which {
        Which::A => "predictions-a",
        Which::B => "predictions-b",
    }
}

pub fn na_probs(which: Which) -> &'static str {
    match which {
        Which::A => "na-a",
        Which::B => "na-b",
    }
}

pub const TOKENIZER: &str = "tokenizer/";
pub const METRICS: &str = "metrics/";

/// Where a key comes in a restore: the dataset before what is scored on it.
pub fn restore_order(key: &str) -> usize {
    let order = [
        DATASET,
        "predictions-a",
        "na-a",
        "predictions-b",
        "na-b",
        TOKENIZER,
        METRICS,
    ];
    order
        .iter()
        .position(|k| key == *k || (k.ends_with('/') && key.starts_with(k)))
        .unwrap_or(order.len())
}

#[cfg(target_arch = "wasm32")]
mod idb {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(inline_js = r#"
function open() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open('squadkit', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('files');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
// One operation at a time, in call order (a delete and the put after it must not swap).
let queue = Promise.resolve();
function run(mode, f) {
  const next = queue.then(() => once(mode, f));
  queue = next.catch(() => {});
  return next;
}
async function once(mode, f) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction('files', mode);
    const out = f(t.objectStore('files'));
    t.oncomplete = () => { db.close(); resolve(out && out.result); };
    t.onerror = () => { db.close(); reject(t.error); };
  });
}
export function idb_put(key, name, bytes) {
  return run('readwrite', (s) => { s.put({ name, bytes }, key); });
}
export function idb_delete(prefix) {
  return run('readwrite', (s) => { s.delete(IDBKeyRange.bound(prefix, prefix + '\uffff')); });
}
export function idb_clear() {
  return run('readwrite', (s) => { s.clear(); });
}
export function idb_all() {
  const next = queue.then(all);
  queue = next.catch(() => {});
  return next;
}
async function all() {
  const db = await open();
  return new Promise((resolve, reject) => {
    const out = [];
    const t = db.transaction('files', 'readonly');
    const c = t.objectStore('files').openCursor();
    c.onsuccess = () => {
      const k = c.result;
      if (k) { out.push([k.key, k.value.name, k.value.bytes]); k.continue(); }
    };
    t.oncomplete = () => { db.close(); resolve(out); };
    t.onerror = () => { db.close(); reject(t.error); };
  });
}
"#)]
    extern "C" {
        /// `bytes` must be a copy owned by JS: the put runs later, after wasm memory may move.
        pub fn idb_put(key: &str, name: &str, bytes: &js_sys::Uint8Array) -> js_sys::Promise;
        pub fn idb_delete(prefix: &str) -> js_sys::Promise;
        pub fn idb_clear() -> js_sys::Promise;
        pub fn idb_all() -> js_sys::Promise;
    }
}

/// Run a storage promise in the background; a browser without storage (private mode, a
/// quota) only loses the reopening, so a failure is logged, not shown.
#[cfg(target_arch = "wasm32")]
fn background(p: js_sys::Promise) {
    leptos::task::spawn_local(async move {
        if let Err(e) = wasm_bindgen_futures::JsFuture::from(p).await {
            leptos::logging::warn!("squadkit: browser storage: {e:?}");
        }
    });
}

/// Keep `bytes` (opened as `name`) under `key`.
pub fn save(key: &str, name: &str, bytes: &[u8]) {
    #[cfg(target_arch = "wasm32")]
    background(idb::idb_put(key, name, &js_sys::Uint8Array::from(bytes)));
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (key, name, bytes);
}

/// Forget every key that starts with `prefix`.
pub fn forget(prefix: &str) {
    #[cfg(target_arch = "wasm32")]
    background(idb::idb_delete(prefix));
    #[cfg(not(target_arch = "wasm32"))]
    let _ = prefix;
}

/// Forget everything.
pub fn clear() {
    #[cfg(target_arch = "wasm32")]
    background(idb::idb_clear());
}

/// Everything kept: (key, file name, bytes), in [`restore_order`].
pub async fn load() -> Vec<(String, String, Vec<u8>)> {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        let Ok(all) = wasm_bindgen_futures::JsFuture::from(idb::idb_all()).await else {
            return Vec::new();
        };
        let mut out: Vec<(String, String, Vec<u8>)> = js_sys::Array::from(&all)
            .iter()
            .filter_map(|row| {
                let row: js_sys::Array = row.dyn_into().ok()?;
                let bytes: js_sys::Uint8Array = row.get(2).dyn_into().ok()?;
                Some((
                    row.get(0).as_string()?,
                    row.get(1).as_string()?,
                    bytes.to_vec(),
                ))
            })
            .collect();
        out.sort_by_key(|(k, _, _)| restore_order(k));
        out
    }
    #[cfg(not(target_arch = "wasm32"))]
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_opens_the_dataset_first() {
        let mut keys = vec![
            "metrics/b.jsonl",
            "na-b",
            "tokenizer/1",
            "predictions-a",
            "dataset",
            "na-a",
            "tokenizer/0",
        ];
        keys.sort_by_key(|k| restore_order(k));
        assert_eq!(
            keys,
            [
                "dataset",
                "predictions-a",
                "na-a",
                "na-b",
                "tokenizer/1",
                "tokenizer/0",
                "metrics/b.jsonl"
            ]
        );
        assert_eq!(restore_order("other"), 7);
    }
}
