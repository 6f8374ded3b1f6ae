//! Loading contracts once per compiler process (keyed by path and modification times).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use onex_contracts::Loaded;

type Stamp = Vec<(PathBuf, Option<SystemTime>)>;
type Cache = BTreeMap<(PathBuf, String), (Stamp, Arc<Loaded>)>;

static CACHE: Mutex<Cache> = Mutex::new(BTreeMap::new());

fn stamp(loaded: &Loaded) -> Stamp {
    loaded
        .sources
        .iter()
        .map(|s| {
            (
                s.path.clone(),
                std::fs::metadata(&s.path).and_then(|m| m.modified()).ok(),
            )
        })
        .collect()
}

/// Loads (or re-uses) the contract at `abs`, shown as `display` in messages.
pub fn load(abs: &std::path::Path, display: &str) -> Arc<Loaded> {
    let key = (abs.to_path_buf(), display.to_owned());
    if let Ok(cache) = CACHE.lock()
        && let Some((old, loaded)) = cache.get(&key)
        && *old == stamp(loaded)
    {
        return Arc::clone(loaded);
    }
    let loaded = Arc::new(onex_contracts::load_file(abs, display));
    if let Ok(mut cache) = CACHE.lock() {
        cache.insert(key, (stamp(&loaded), Arc::clone(&loaded)));
    }
    loaded
}
